"""GS1 key URI canonicalisation for the CBV 2.0 event hash, ported from the reference.

The event hash is only useful if it equals GS1's reference implementation
(``epcis-event-hash-generator`` 1.9.3, MIT licence, ``dl_normaliser.py``) byte for byte, bugs
included, so these functions keep the reference's regular expressions and branch order verbatim
(reviewable side by side with it); tests compare them with the reference on generated URIs.
Two changes only, neither observable: patterns are compiled once, and each input is dispatched
on its scheme prefix first, since every branch is anchored on ``urn:epc:`` or ``http``.
"""

from __future__ import annotations

import re

from lotlink.epcis.event_hash_urns import match, urn_to_digital_link

# Lotlink's own URIs: already canonical, so the reference returns them unchanged (no query to
# strip, no short names, no CPV, one qualifier, characters within its final syntax check; "?"
# is excluded because the reference would cut there). Skips ~8 regexes per new lot.
_CANONICAL_LOT_OR_SERIAL = re.compile(
    r"https://id\.gs1\.org/01/\d{14}/(?:10|21)/[\x22\x27\x2D\x2E\x30-\x39\x3B-\x3E\x41-\x5A\x5F\x61-\x7A]{1,20}"
)
_URN_PREFIX = "urn:epc:"
_HTTP_PREFIX = "http"


def normalise_key_uri(uri: str) -> str | None:
    """Return the canonical ``https://id.gs1.org/...`` form of a GS1 key URI, or None.

    None means "not a GS1 key URI the reference recognises"; the caller then keeps the value.
    Not cached here: the event hash caches each value's whole canonical form around it.
    """
    if "." not in uri:
        return None
    if uri.startswith(_URN_PREFIX):
        return urn_to_digital_link(uri)
    if uri.startswith(_HTTP_PREFIX):
        if _CANONICAL_LOT_OR_SERIAL.fullmatch(uri):
            return uri
        return canonical_digital_link(uri)
    return None


def canonical_digital_link(uri: str) -> str | None:
    """Reduce a GS1 Digital Link URI to the reference's canonical form, or None."""
    # GS1 DL URIs
    if (
        match(
            (
                r"^https?:(\/\/((([^\/?#]*)@)?([^\/?#:]*)(:([^\/?#]*))?))?((([^?#]*)(\/("
                r"01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255"
                r"|gcn|00|sscc|253|gdti|401|ginc|402|gsin|8003|grai|8004|giai)\/)(\d{4}["
                r"^\/]+)(\/[^/]+\/[^/]+)?[/]?(\?([^?\n]*))?(#([^\n]*))?)|(\/[A-Za-z_-]{1"
                r"0}$))"
            ),
            uri,
        )
        is None
    ):
        return None

    # remove query string
    if uri.find("?") >= 0:
        uri = uri[: uri.index("?")]

    # replace short names for keys/key extensions with AIs
    uri = (
        uri.replace("/gtin/", "/01/")
        .replace("/itip/", "/8006/")
        .replace("/cpid/", "/8010/")
        .replace("/gln/", "/414/")
        .replace("/party/", "/417/")
        .replace("/gsrnp/", "/8017/")
        .replace("/gsrn/", "/8018/")
        .replace("/gcn/", "/255/")
        .replace("/sscc/", "/00/")
        .replace("/gdti/", "/253/")
        .replace("/ginc/", "/401/")
        .replace("/gsin/", "/402/")
        .replace("/grai/", "/8003/")
        .replace("/giai/", "/8004/")
        .replace("/cpv/", "/22/")
        .replace("/lot/", "/10/")
        .replace("/ser/", "/21/")
    )

    # prefix with canonical domain name
    if (
        match(
            (
                r"^https:\/\/id.gs1.org\/(01|8006|8010|414|417|8017|8018|255|00|253|401|"
                r"402|8003|8004)\/(\d{4}[^\/]+)(\/[^\/]+\/[^\/]+)?[\/]?(\?([^?\n]*))?(#("
                r"[^\n]*))?|(\/[A-Za-z_-]{10}$)"
            ),
            uri,
        )
        is None
    ):
        if uri.find("/00/") != -1:
            uri = "https://id.gs1.org" + uri[(uri.find("/00/")) :]
        elif uri.find("/01/") != -1:
            uri = "https://id.gs1.org" + uri[(uri.find("/01/")) :]
        elif uri.find("/253/") != -1:
            uri = "https://id.gs1.org" + uri[(uri.find("/253/")) :]
        elif uri.find("/255/") != -1:
            uri = "https://id.gs1.org" + uri[(uri.find("/255/")) :]
        elif uri.find("/401/") != -1:
            uri = "https://id.gs1.org" + uri[(uri.find("/401/")) :]
        elif uri.find("/402/") != -1:
            uri = "https://id.gs1.org" + uri[(uri.find("/402/")) :]
        elif uri.find("/414/") != -1:
            uri = "https://id.gs1.org" + uri[(uri.find("/414/")) :]
        elif uri.find("/417/") != -1:
            uri = "https://id.gs1.org" + uri[(uri.find("/417/")) :]
        elif uri.find("/8003/") != -1:
            uri = "https://id.gs1.org" + uri[(uri.find("/8003/")) :]
        elif uri.find("/8004/") != -1:
            uri = "https://id.gs1.org" + uri[(uri.find("/8004/")) :]
        elif uri.find("/8006/") != -1:
            uri = "https://id.gs1.org" + uri[(uri.find("/8006/")) :]
        elif uri.find("/8010/") != -1:
            uri = "https://id.gs1.org" + uri[(uri.find("/8010/")) :]
        elif uri.find("/8017/") != -1:
            uri = "https://id.gs1.org" + uri[(uri.find("/8017/")) :]
        elif uri.find("/8018/") != -1:
            uri = "https://id.gs1.org" + uri[(uri.find("/8018/")) :]

    # ensure that all GTIN formats are padded to 14 digits
    if match(r"^https:\/\/id.gs1.org\/01\/\d{14}", uri) is None:
        if match(r"^https:\/\/id.gs1.org\/01\/\d{13}", uri) is not None:
            uri = uri.replace("/01/", "/01/0")
        elif match(r"^https:\/\/id.gs1.org\/01\/\d{12}", uri) is not None:
            uri = uri.replace("/01/", "/01/00")
        elif match(r"^https:\/\/id.gs1.org\/01\/\d{8}", uri) is not None:
            uri = uri.replace("/01/", "/01/000000")

    # remove cpv
    x = uri[(uri.find("/22/") + 4) :]

    # for 01/8006 only:
    if (
        match(
            (
                r"https:\/\/id.gs1.org\/8006\/\d{18}\/22\/([\x22\x27\x2D\x2E\x30-\x39\x3"
                r"B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$"
            ),
            uri,
        )
        or match(
            (
                r"https:\/\/id.gs1.org\/01\/\d{14}\/22\/([\x22\x27\x2D\x2E\x30-\x39\x3B-"
                r"\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$"
            ),
            uri,
        )
    ) is not None:
        uri = (uri[: (uri.find("/22/"))]) + (x[x.find("/") : -1])

    # for 01/8006 followed by other key qualifiers:
    if (
        match(
            (
                r"https:\/\/id.gs1.org\/8006\/\d{18}\/22\/([\x2F\x22\x27\x2D\x2E\x30-\x3"
                r"9\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$"
            ),
            uri,
        )
        or match(
            (
                r"https:\/\/id.gs1.org\/01\/\d{14}\/22\/([\x2F\x22\x27\x2D\x2E\x30-\x39\x"
                r"3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$"
            ),
            uri,
        )
    ) is not None:
        uri = (uri[: (uri.find("/22/"))]) + (x[x.find("/") :])

    # take only lowest ID granularity level (i.e. if serial is present, omit lot)
    if (
        match(
            (
                r"https:\/\/id.gs1.org\/8006\/\d{18}\/10\/([\x22\x27\x2D\x2E\x30-\x39\x3"
                r"B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})\/21\/([\x22\x27\x2D\x2E\x30-\x39\x"
                r"3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$"
            ),
            uri,
        )
        or match(
            (
                r"https:\/\/id.gs1.org\/01\/(\d{14})\/10\/([\x22\x27\x2D\x2E\x30-\x39\x3"
                r"B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})\/21\/([\x22\x27\x2D\x2E\x30-\x39\x"
                r"3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$"
            ),
            uri,
        )
    ) is not None:
        y = uri[(uri.find("/10/") + 4) :]
        uri = (uri[: (uri.find("/10/"))]) + (y[y.find("/") :])

    # ensure that output has a valid syntax
    if (
        match(r"https:\/\/id.gs1.org\/00\/(\d{18})$", uri)
        or match(
            (
                r"https:\/\/id.gs1.org\/01\/(\d{14})\/21\/([\x22\x27\x2D\x2E\x30-\x39\x3"
                r"B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$"
            ),
            uri,
        )
        or match(
            (
                r"https:\/\/id.gs1.org\/01\/(\d{14})\/10\/([\x22\x27\x2D\x2E\x30-\x39\x3"
                r"B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$"
            ),
            uri,
        )
        or match(r"https:\/\/id.gs1.org\/01\/(\d{14})$", uri)
        or match(
            (
                r"https:\/\/id.gs1.org\/01\/(\d{14})\/235\/([\x22\x27\x2D\x2E\x30-\x39\x"
                r"3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,28})$"
            ),
            uri,
        )
        or match(
            (
                r"https:\/\/id.gs1.org\/253\/(\d{13})([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3"
                r"F\x41-\x5A\x5F\x61-\x7A]{0,17})$"
            ),
            uri,
        )
        or match(r"https:\/\/id.gs1.org\/255\/(\d{13})(\d{0,12})$", uri)
        or match(
            (
                r"https:\/\/id.gs1.org\/401\/([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x"
                r"5A\x5F\x61-\x7A]{0,30})$"
            ),
            uri,
        )
        or match(r"https:\/\/id.gs1.org\/402\/(\d{17})$", uri)
        or match(r"https:\/\/id.gs1.org\/414\/(\d{13})$", uri)
        or match(
            (
                r"https:\/\/id.gs1.org\/414\/(\d{13})\/254\/([\x22\x27\x2D\x2E\x30-\x39\x"
                r"3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$"
            ),
            uri,
        )
        or match(r"https:\/\/id.gs1.org\/417\/(\d{13})$", uri)
        or match(
            (
                r"https:\/\/id.gs1.org\/8003\/(\d{14})([\x22\x27\x2D\x2E\x30-\x39\x3B-\x"
                r"3F\x41-\x5A\x5F\x61-\x7A]{0,16})$"
            ),
            uri,
        )
        or match(
            (
                r"https:\/\/id.gs1.org\/8004\/([\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x"
                r"5A\x5F\x61-\x7A]{0,30})$"
            ),
            uri,
        )
        or match(
            (
                r"https:\/\/id.gs1.org\/8006\/(\d{18})\/21\/([\x22\x27\x2D\x2E\x30-\x39\x"
                r"3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$"
            ),
            uri,
        )
        or match(
            (
                r"https:\/\/id.gs1.org\/8006\/(\d{18})\/10\/([\x22\x27\x2D\x2E\x30-\x39\x"
                r"3B-\x3F\x41-\x5A\x5F\x61-\x7A]{0,20})$"
            ),
            uri,
        )
        or match(r"https:\/\/id.gs1.org\/8006\/(\d{18})$", uri)
        or match(
            (
                r"https:\/\/id.gs1.org\/8010\/([\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30})\/"
                r"8011/(\d{0,12})$"
            ),
            uri,
        )
        or match(r"https:\/\/id.gs1.org\/8010\/([\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30})$", uri)
        or match(r"https:\/\/id.gs1.org\/8017\/(\d{18})$", uri)
        or match(r"https:\/\/id.gs1.org\/8018\/(\d{18})$", uri)
    ) is not None:
        return uri
    return None
