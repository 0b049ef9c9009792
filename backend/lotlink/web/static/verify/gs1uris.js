// GS1 key URI canonicalisation for the CBV 2.0 event hash: a port of Lotlink's
// lotlink/epcis/event_hash_urns.py and event_hash_uris.py, themselves verbatim ports of GS1's
// reference (epcis-event-hash-generator 1.9.3, dl_normaliser.py, MIT). Same regular expressions,
// same branch order, same slicing, quirks kept: the hash must equal the reference's byte for byte.
//
// Python's re.match anchors at the start: the sticky flag ('y', lastIndex 0) does the same here.
// Python's \d also matches non-ASCII digits and JS's does not: eventhash.js refuses such values
// (reports them as not checked) before they reach this module.

// event_hash_urns.py, every match() pattern in source order
const URN = [
  /* 0 */ String.raw`^urn:epc:id:sgtin:((\d{6}\.\d{7})|(\d{7}\.\d{6})|(\d{8}\.\d{5})|(\d{9}\.\d{4})|(\d{10}\.\d{3})|(\d{11}\.\d{2})|(\d{12}\.\d{1}))\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,20}$`,
  /* 1 */ String.raw`^urn:epc:id:sscc:((\d{6}\.\d{11}$)|(\d{7}\.\d{10}$)|(\d{8}\.\d{9}$)|(\d{9}\.\d{8}$)|(\d{10}\.\d{7}$)|(\d{11}\.\d{6}$)|(\d{12}\.\d{5}$))`,
  /* 2 */ String.raw`^urn:epc:id:sgln:((\d{6}\.\d{6})|(\d{7}\.\d{5})|(\d{8}\.\d{4})|(\d{9}\.\d{3})|(\d{10}\.\d{2})|(\d{11}\.\d{1})|(\d{12}\.))\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,20}$`,
  /* 3 */ String.raw`^urn:epc:id:grai:(([\d]{6}\.[\d]{6})|([\d]{7}\.[\d]{5})|([\d]{8}\.[\d]{4})|([\d]{9}\.[\d]{3})|([\d]{10}\.[\d]{2})|([\d]{11}\.[\d]{1})|([\d]{12}\.\.))\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,16}$`,
  /* 4 */ String.raw`^urn:epc:id:giai:(([\d]{6}\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,24})|([\d]{7}\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,23})|([\d]{8}\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,22})|([\d]{9}\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,21})|([\d]{10}\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,20})|([\d]{11}\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,19})|([\d]{12}\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,18}))$`,
  /* 5 */ String.raw`^urn:epc:id:gsrn:(([\d]{6}\.[\d]{11}$)|([\d]{7}\.[\d]{10}$)|([\d]{8}\.[\d]{9}$)|([\d]{9}\.[\d]{8}$)|([\d]{10}\.[\d]{7}$)|([\d]{11}\.[\d]{6}$)|([\d]{12}\.[\d]{5}$))`,
  /* 6 */ String.raw`^urn:epc:id:gsrnp:(([\d]{6}\.[\d]{11}$)|([\d]{7}\.[\d]{10}$)|([\d]{8}\.[\d]{9}$)|([\d]{9}\.[\d]{8}$)|([\d]{10}\.[\d]{7}$)|([\d]{11}\.[\d]{6}$)|([\d]{12}\.[\d]{5}$))`,
  /* 7 */ String.raw`^urn:epc:id:gdti:(([\d]{6}\.[\d]{6})|([\d]{7}\.[\d]{5})|([\d]{8}\.[\d]{4})|([\d]{9}\.[\d]{3})|([\d]{10}\.[\d]{2})|([\d]{11}\.[\d]{1})|([\d]{12}\.\.))(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,20}$`,
  /* 8 */ String.raw`^urn:epc:id:cpi:((\d{6}\.(\%2[3dfDF]|\%3[0-9]|\%4[1-9A-Fa-f]|\%5[0-9Aa]|[0-9A-Z-]){1,24})|(\d{7}\.(\%2[3dfDF]|\%3[0-9]|\%4[1-9A-Fa-f]|\%5[0-9Aa]|[0-9A-Z-]){1,23})|(\d{8}\.(\%2[3dfDF]|\%3[0-9]|\%4[1-9A-Fa-f]|\%5[0-9Aa]|[0-9A-Z-]){1,22})|(\d{9}\.(\%2[3dfDF]|\%3[0-9]|\%4[1-9A-Fa-f]|\%5[0-9Aa]|[0-9A-Z-]){1,21})|(\d{10}\.(\%2[3dfDF]|\%3[0-9]|\%4[1-9A-Fa-f]|\%5[0-9Aa]|[0-9A-Z-]){1,20})|(\d{11}\.(\%2[3dfDF]|\%3[0-9]|\%4[1-9A-Fa-f]|\%5[0-9Aa]|[0-9A-Z-]){1,19})|(\d{12}\.(\%2[3dfDF]|\%3[0-9]|\%4[1-9A-Fa-f]|\%5[0-9Aa]|[0-9A-Z-]){1,18}))\.[\d]{1,12}$`,
  /* 9 */ String.raw`^urn:epc:id:sgcn:(([\d]{6}\.[\d]{6})|([\d]{7}\.[\d]{5})|([\d]{8}\.[\d]{4})|([\d]{9}\.[\d]{3})|([\d]{10}\.[\d]{2})|([\d]{11}\.[\d]{1})|([\d]{12}\.))\.[\d]{1,12}$`,
  /* 10 */ String.raw`^urn:epc:id:ginc:([\d]{6}\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,24}|[\d]{7}\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,23}|[\d]{8}\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,22}|[\d]{9}\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,21}|[\d]{10}\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,20}|[\d]{11}\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,19}|[\d]{12}\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,18})$`,
  /* 11 */ String.raw`^urn:epc:id:gsin:(([\d]{6}\.[\d]{10}$)|([\d]{7}\.[\d]{9}$)|([\d]{8}\.[\d]{8}$)|([\d]{9}\.[\d]{7}$)|([\d]{10}\.[\d]{6}$)|([\d]{11}\.[\d]{5}$)|([\d]{12}\.[\d]{4}$))`,
  /* 12 */ String.raw`^urn:epc:id:itip:(([\d]{6}\.[\d]{7})|([\d]{7}\.[\d]{6})|([\d]{8}\.[\d]{5})|([\d]{9}\.[\d]{4})|([\d]{10}\.[\d]{3})|([\d]{11}\.[\d]{2})|([\d]{12}\.[\d]{1}))\.[\d]{2}\.[\d]{2}\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,20}$`,
  /* 13 */ String.raw`^urn:epc:id:upui:((\d{6}\.\d{7})|(\d{7}\.\d{6})|(\d{8}\.\d{5})|(\d{9}\.\d{4})|(\d{10}\.\d{3})|(\d{11}\.\d{2})|(\d{12}\.\d{1}))\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,28}$`,
  /* 14 */ String.raw`^urn:epc:id:pgln:(([\d]{6}\.[\d]{6})|([\d]{7}\.[\d]{5})|([\d]{8}\.[\d]{4})|([\d]{9}\.[\d]{3})|([\d]{10}\.[\d]{2})|([\d]{11}\.[\d]{1})|([\d]{12}\.))$`,
  /* 15 */ String.raw`^urn:epc:class:lgtin:(([\d]{6}\.[\d]{7})|([\d]{7}\.[\d]{6})|([\d]{8}\.[\d]{5})|([\d]{9}\.[\d]{4})|([\d]{10}\.[\d]{3})|([\d]{11}\.[\d]{2})|([\d]{12}\.[\d]{1}))\.(\%2[125-9A-Fa-f]|\%3[0-9A-Fa-f]|\%4[1-9A-Fa-f]|\%5[0-9AaFf]|\%6[1-9A-Fa-f]|\%7[0-9Aa]|[!\')(*+,.0-9:;=A-Za-z_-]){1,20}$`,
  /* 16 */ String.raw`^urn:epc:idpat:sgtin:((\d{6}\.\d{7})|(\d{7}\.\d{6})|(\d{8}\.\d{5})|(\d{9}\.\d{4})|(\d{10}\.\d{3})|(\d{11}\.\d{2})|(\d{12}\.\d{1}))\.\*$`,
  /* 17 */ String.raw`^urn:epc:idpat:grai:(([\d]{6}\.[\d]{6})|([\d]{7}\.[\d]{5})|([\d]{8}\.[\d]{4})|([\d]{9}\.[\d]{3})|([\d]{10}\.[\d]{2})|([\d]{11}\.[\d]{1})|([\d]{12}\.\.))\.\*$`,
  /* 18 */ String.raw`^urn:epc:idpat:gdti:(([\d]{6}\.[\d]{6})|([\d]{7}\.[\d]{5})|([\d]{8}\.[\d]{4})|([\d]{9}\.[\d]{3})|([\d]{10}\.[\d]{2})|([\d]{11}\.[\d]{1})|([\d]{12}\.\.))\.\*$`,
  /* 19 */ String.raw`^urn:epc:idpat:sgcn:(([\d]{6}\.[\d]{6})|([\d]{7}\.[\d]{5})|([\d]{8}\.[\d]{4})|([\d]{9}\.[\d]{3})|([\d]{10}\.[\d]{2})|([\d]{11}\.[\d]{1})|([\d]{12}\.\.))\.\*$`,
  /* 20 */ String.raw`^urn:epc:idpat:cpi:((\d{6}\.(\%2[3dfDF]|\%3[0-9]|\%4[1-9A-Fa-f]|\%5[0-9Aa]|[0-9A-Z-]){1,24})|(\d{7}\.(\%2[3dfDF]|\%3[0-9]|\%4[1-9A-Fa-f]|\%5[0-9Aa]|[0-9A-Z-]){1,23})|(\d{8}\.(\%2[3dfDF]|\%3[0-9]|\%4[1-9A-Fa-f]|\%5[0-9Aa]|[0-9A-Z-]){1,22})|(\d{9}\.(\%2[3dfDF]|\%3[0-9]|\%4[1-9A-Fa-f]|\%5[0-9Aa]|[0-9A-Z-]){1,21})|(\d{10}\.(\%2[3dfDF]|\%3[0-9]|\%4[1-9A-Fa-f]|\%5[0-9Aa]|[0-9A-Z-]){1,20})|(\d{11}\.(\%2[3dfDF]|\%3[0-9]|\%4[1-9A-Fa-f]|\%5[0-9Aa]|[0-9A-Z-]){1,19})|(\d{12}\.(\%2[3dfDF]|\%3[0-9]|\%4[1-9A-Fa-f]|\%5[0-9Aa]|[0-9A-Z-]){1,18}))\.\*$`,
  /* 21 */ String.raw`^urn:epc:idpat:itip:(([\d]{6}\.[\d]{7})|([\d]{7}\.[\d]{6})|([\d]{8}\.[\d]{5})|([\d]{9}\.[\d]{4})|([\d]{10}\.[\d]{3})|([\d]{11}\.[\d]{2})|([\d]{12}\.[\d]{1}))\.[\d]{2}\.[\d]{2}\.\*$`,
  /* 22 */ String.raw`^urn:epc:idpat:upui:((\d{6}\.\d{7})|(\d{7}\.\d{6})|(\d{8}\.\d{5})|(\d{9}\.\d{4})|(\d{10}\.\d{3})|(\d{11}\.\d{2})|(\d{12}\.\d{1}))\.\*$`,
].map((p) => new RegExp(p, 'y'));

// event_hash_uris.py, every match() pattern in source order
const DL = [
  /* 0 */ String.raw`^https?:(\/\/((([^\/?#]*)@)?([^\/?#:]*)(:([^\/?#]*))?))?((([^?#]*)(\/(01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253|gdti|401|ginc|402|gsin|8003|grai|8004|giai)\/)(\d{4}[^\/]+)(\/[^/]+\/[^/]+)?[/]?(\?([^?\n]*))?(#([^\n]*))?)|(\/[A-Za-z_-]{10}$))`,
  /* 1 */ String.raw`^https:\/\/id.gs1.org\/(01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004)\/(\d{4}[^\/]+)(\/[^\/]+\/[^\/]+)?[\/]?(\?([^?\n]*))?(#([^\n]*))?|(\/[A-Za-z_-]{10}$)`,
  /* 2 */ String.raw`^https:\/\/id.gs1.org\/01\/\d{14}`,
  /* 3 */ String.raw`^https:\/\/id.gs1.org\/01\/\d{13}`,
  /* 4 */ String.raw`^https:\/\/id.gs1.org\/01\/\d{12}`,
  /* 5 */ String.raw`^https:\/\/id.gs1.org\/01\/\d{8}`,
  /* 6 */ String.raw`https:\/\/id.gs1.org\/8006\/\d{18}\/22\/([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$`,
  /* 7 */ String.raw`https:\/\/id.gs1.org\/01\/\d{14}\/22\/([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$`,
  /* 8 */ String.raw`https:\/\/id.gs1.org\/8006\/\d{18}\/22\/([\x2F\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$`,
  /* 9 */ String.raw`https:\/\/id.gs1.org\/01\/\d{14}\/22\/([\x2F\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$`,
  /* 10 */ String.raw`https:\/\/id.gs1.org\/8006\/\d{18}\/10\/([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})\/21\/([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$`,
  /* 11 */ String.raw`https:\/\/id.gs1.org\/01\/(\d{14})\/10\/([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})\/21\/([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$`,
  /* 12 */ String.raw`https:\/\/id.gs1.org\/00\/(\d{18})$`,
  /* 13 */ String.raw`https:\/\/id.gs1.org\/01\/(\d{14})\/21\/([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$`,
  /* 14 */ String.raw`https:\/\/id.gs1.org\/01\/(\d{14})\/10\/([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$`,
  /* 15 */ String.raw`https:\/\/id.gs1.org\/01\/(\d{14})$`,
  /* 16 */ String.raw`https:\/\/id.gs1.org\/01\/(\d{14})\/235\/([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,28})$`,
  /* 17 */ String.raw`https:\/\/id.gs1.org\/253\/(\d{13})([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,17})$`,
  /* 18 */ String.raw`https:\/\/id.gs1.org\/255\/(\d{13})(\d{0,12})$`,
  /* 19 */ String.raw`https:\/\/id.gs1.org\/401\/([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,30})$`,
  /* 20 */ String.raw`https:\/\/id.gs1.org\/402\/(\d{17})$`,
  /* 21 */ String.raw`https:\/\/id.gs1.org\/414\/(\d{13})$`,
  /* 22 */ String.raw`https:\/\/id.gs1.org\/414\/(\d{13})\/254\/([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$`,
  /* 23 */ String.raw`https:\/\/id.gs1.org\/417\/(\d{13})$`,
  /* 24 */ String.raw`https:\/\/id.gs1.org\/8003\/(\d{14})([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,16})$`,
  /* 25 */ String.raw`https:\/\/id.gs1.org\/8004\/([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,30})$`,
  /* 26 */ String.raw`https:\/\/id.gs1.org\/8006\/(\d{18})\/21\/([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$`,
  /* 27 */ String.raw`https:\/\/id.gs1.org\/8006\/(\d{18})\/10\/([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$`,
  /* 28 */ String.raw`https:\/\/id.gs1.org\/8006\/(\d{18})$`,
  /* 29 */ String.raw`https:\/\/id.gs1.org\/8010\/([\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30})\/8011/(\d{0,12})$`,
  /* 30 */ String.raw`https:\/\/id.gs1.org\/8010\/([\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30})$`,
  /* 31 */ String.raw`https:\/\/id.gs1.org\/8017\/(\d{18})$`,
  /* 32 */ String.raw`https:\/\/id.gs1.org\/8018\/(\d{18})$`,
].map((p) => new RegExp(p, 'y'));

const LOT_OR_SERIAL = new RegExp(
  String.raw`^(?:https:\/\/id\.gs1\.org\/01\/\d{14}\/(?:10|21)\/[\x22\x27\x2D\x2E\x30-\x39\x3B-\x3E\x41-\x5A\x5F\x61-\x7A]{1,20})$`,
);

function match(re, text) {
  re.lastIndex = 0;
  return re.test(text);
}

function percentEncode(value) {
  return value
    .replaceAll('!', '%21')
    .replaceAll('(', '%28')
    .replaceAll(')', '%29')
    .replaceAll('*', '%2A')
    .replaceAll('+', '%2B')
    .replaceAll(',', '%2C')
    .replaceAll(':', '%3A');
}

/** GS1 mod-10 check digit exactly as the reference computes it. */
export function checkDigit(key) {
  const digits = [...key].reverse().join('');
  let sum = 0;
  for (let i = digits.length - 1; i >= 0; i--) {
    const d = Number(digits[i]);
    if (d === 0) continue;
    sum += d * (i % 2 !== 0 ? 1 : 3);
  }
  return Math.ceil(sum / 10) * 10 - sum;
}

const cd = (raw) => raw + String(checkDigit(raw));

/** EPC URN (id, class or idpat) -> the reference's canonical Digital Link, or null. */
export function urnToDigitalLink(uri) {
  const p = uri.indexOf('.');
  if (p < 0) return null;
  const s = (a, b) => uri.slice(a, b);
  let prefix;
  let ref;
  if (match(URN[0], uri)) {
    prefix = s(17, p);
    ref = s(p + 1, p + 1 + (13 - prefix.length));
    return 'https://id.gs1.org/01/' + cd(ref.slice(0, 1) + prefix + ref.slice(1)) + '/21/' + percentEncode(s(32));
  }
  if (match(URN[1], uri)) {
    prefix = s(16, p);
    return 'https://id.gs1.org/00/' + cd(s(p + 1, p + 2) + prefix + s(p + 2));
  }
  if (match(URN[2], uri)) {
    prefix = s(16, p);
    ref = s(p + 1, p + 1 + (12 - prefix.length));
    const extension = s(30);
    if (extension === '0') return 'https://id.gs1.org/414/' + cd(prefix + ref);
    return 'https://id.gs1.org/414/' + cd(prefix + ref) + '/254/' + percentEncode(extension);
  }
  if (match(URN[3], uri)) {
    prefix = s(16, p);
    ref = s(p + 1, p + 1 + (12 - prefix.length));
    return 'https://id.gs1.org/8003/' + cd('0' + prefix + ref) + percentEncode(s(30));
  }
  if (match(URN[4], uri)) {
    return 'https://id.gs1.org/8004/' + s(16, p) + percentEncode(s(p + 1));
  }
  if (match(URN[5], uri)) {
    return 'https://id.gs1.org/8018/' + cd(s(16, p) + s(p + 1));
  }
  if (match(URN[6], uri)) {
    return 'https://id.gs1.org/8017/' + cd(s(17, p) + s(p + 1));
  }
  if (match(URN[7], uri)) {
    prefix = s(16, p);
    ref = s(p + 1, p + 1 + (12 - prefix.length));
    return 'https://id.gs1.org/253/' + cd(prefix + ref) + percentEncode(s(30));
  }
  if (match(URN[8], uri)) {
    prefix = s(15, p);
    const sep = uri.lastIndexOf('.');
    return 'https://id.gs1.org/8010/' + percentEncode(prefix + s(p + 1, sep)) + '/8011/' + s(sep + 1);
  }
  if (match(URN[9], uri)) {
    prefix = s(16, p);
    ref = s(p + 1, p + 1 + (12 - prefix.length));
    return 'https://id.gs1.org/255/' + cd(prefix + ref) + s(30);
  }
  if (match(URN[10], uri)) {
    return 'https://id.gs1.org/401/' + s(16, p) + percentEncode(s(p + 1));
  }
  if (match(URN[11], uri)) {
    return 'https://id.gs1.org/402/' + cd(s(16, p) + s(p + 1));
  }
  if (match(URN[12], uri)) {
    prefix = s(16, p);
    ref = s(p + 1, p + 1 + (13 - prefix.length));
    return (
      'https://id.gs1.org/8006/' + cd(ref.slice(0, 1) + prefix + ref.slice(1)) + s(31, 33) + s(34, 36) +
      '/21/' + percentEncode(s(37))
    );
  }
  if (match(URN[13], uri)) {
    prefix = s(16, p);
    ref = s(p + 1, p + 1 + (13 - prefix.length));
    return 'https://id.gs1.org/01/' + cd(ref.slice(0, 1) + prefix + ref.slice(1)) + '/235/' + percentEncode(s(31));
  }
  if (match(URN[14], uri)) {
    prefix = s(16, p);
    ref = s(p + 1, p + 1 + (12 - prefix.length));
    return 'https://id.gs1.org/417/' + cd(prefix + ref);
  }
  if (match(URN[15], uri)) {
    prefix = s(20, p);
    ref = s(p + 1, p + 1 + (13 - prefix.length));
    return 'https://id.gs1.org/01/' + cd(ref.slice(0, 1) + prefix + ref.slice(1)) + '/10/' + percentEncode(s(35));
  }
  if (match(URN[16], uri)) {
    prefix = s(20, p);
    ref = s(p + 1, p + 1 + (13 - prefix.length));
    return 'https://id.gs1.org/01/' + cd(ref.slice(0, 1) + prefix + ref.slice(1));
  }
  if (match(URN[17], uri)) {
    prefix = s(19, p);
    ref = s(p + 1, p + 1 + (12 - prefix.length));
    return 'https://id.gs1.org/8003/' + cd('0' + prefix + ref);
  }
  if (match(URN[18], uri)) {
    prefix = s(19, p);
    ref = s(p + 1, p + 1 + (12 - prefix.length));
    return 'https://id.gs1.org/253/' + cd(prefix + ref);
  }
  if (match(URN[19], uri)) {
    prefix = s(19, p);
    ref = s(p + 1, p + 1 + (12 - prefix.length));
    return 'https://id.gs1.org/255/' + cd(prefix + ref);
  }
  if (match(URN[20], uri)) {
    prefix = s(18, p);
    const sep = uri.lastIndexOf('.');
    return 'https://id.gs1.org/8010/' + percentEncode(prefix + s(p + 1, sep));
  }
  if (match(URN[21], uri)) {
    prefix = s(19, p);
    ref = s(p + 1, p + 1 + (13 - prefix.length));
    return 'https://id.gs1.org/8006/' + cd(ref.slice(0, 1) + prefix + ref.slice(1)) + s(34, 36) + s(37, 39);
  }
  if (match(URN[22], uri)) {
    prefix = s(19, p);
    ref = s(p + 1, p + 1 + (13 - prefix.length));
    return 'https://id.gs1.org/01/' + cd(ref.slice(0, 1) + prefix + ref.slice(1));
  }
  return null;
}

const SHORT_NAMES = [
  ['/gtin/', '/01/'], ['/itip/', '/8006/'], ['/cpid/', '/8010/'], ['/gln/', '/414/'],
  ['/party/', '/417/'], ['/gsrnp/', '/8017/'], ['/gsrn/', '/8018/'], ['/gcn/', '/255/'],
  ['/sscc/', '/00/'], ['/gdti/', '/253/'], ['/ginc/', '/401/'], ['/gsin/', '/402/'],
  ['/grai/', '/8003/'], ['/giai/', '/8004/'], ['/cpv/', '/22/'], ['/lot/', '/10/'], ['/ser/', '/21/'],
];
const PRIMARY_KEYS = [
  '/00/', '/01/', '/253/', '/255/', '/401/', '/402/', '/414/', '/417/', '/8003/', '/8004/',
  '/8006/', '/8010/', '/8017/', '/8018/',
];

/** A GS1 Digital Link URI reduced to the reference's canonical form, or null. */
export function canonicalDigitalLink(input) {
  let uri = input;
  if (!match(DL[0], uri)) return null;
  if (uri.indexOf('?') >= 0) uri = uri.slice(0, uri.indexOf('?'));
  for (const [from, to] of SHORT_NAMES) uri = uri.replaceAll(from, to);
  if (!match(DL[1], uri)) {
    for (const key of PRIMARY_KEYS) {
      if (uri.indexOf(key) !== -1) {
        uri = 'https://id.gs1.org' + uri.slice(uri.indexOf(key));
        break;
      }
    }
  }
  if (!match(DL[2], uri)) {
    // Python's str.replace replaces every occurrence, hence replaceAll.
    if (match(DL[3], uri)) uri = uri.replaceAll('/01/', '/01/0');
    else if (match(DL[4], uri)) uri = uri.replaceAll('/01/', '/01/00');
    else if (match(DL[5], uri)) uri = uri.replaceAll('/01/', '/01/000000');
  }
  const x = uri.slice(uri.indexOf('/22/') + 4);
  if (match(DL[6], uri) || match(DL[7], uri)) {
    uri = uri.slice(0, uri.indexOf('/22/')) + x.slice(x.indexOf('/'), -1);
  }
  if (match(DL[8], uri) || match(DL[9], uri)) {
    uri = uri.slice(0, uri.indexOf('/22/')) + x.slice(x.indexOf('/'));
  }
  if (match(DL[10], uri) || match(DL[11], uri)) {
    const y = uri.slice(uri.indexOf('/10/') + 4);
    uri = uri.slice(0, uri.indexOf('/10/')) + y.slice(y.indexOf('/'));
  }
  for (let i = 12; i <= 32; i++) if (match(DL[i], uri)) return uri;
  return null;
}

/** The canonical https://id.gs1.org/... form of a GS1 key URI, or null if it is none. */
export function normaliseKeyUri(uri) {
  if (!uri.includes('.')) return null;
  if (uri.startsWith('urn:epc:')) return urnToDigitalLink(uri);
  if (uri.startsWith('http')) {
    if (LOT_OR_SERIAL.test(uri)) return uri;
    return canonicalDigitalLink(uri);
  }
  return null;
}
