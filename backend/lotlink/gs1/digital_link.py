"""GS1 Digital Link URIs for packs: parse what a scanner sends, build what a label prints.

Only the uncompressed, numeric-AI form with a GTIN primary key is accepted, as GS1's resolver
standard asks: ``[/prefix…]/01/{gtin}[/22/{cpv}][/10/{lot}][/21/{serial}]`` with data attributes
(expiry, best-before, …) in the query. Qualifiers keep that order; each value is percent-decoded
once, then checked against GS1 CSET 82 (at most 20 characters). Anything else raises
`InvalidDigitalLinkError` with the reason, which the resolver shows on its 400 page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote

from lotlink.errors import InvalidDigitalLinkError, InvalidGs1KeyError
from lotlink.gs1.keys import normalize_gtin

# Qualifier AIs of a GTIN, in the only order GS1 allows (Syntax Dictionary: 01 dlpkey=22,10,21).
QUALIFIERS = {"22": "consumer product variant", "10": "lot", "21": "serial"}
_QUALIFIER_ORDER = list(QUALIFIERS)

# Data attributes a Digital Link may carry in its query string, with their formats.
_DATE = re.compile(r"^\d{2}(0[1-9]|1[0-2])(0\d|[12]\d|3[01])$")  # YYMMDD, DD=00 is month end
ATTRIBUTES = {
    "11": ("production date", _DATE),
    "13": ("packaging date", _DATE),
    "15": ("best before date", _DATE),
    "16": ("sell by date", _DATE),
    "17": ("expiration date", _DATE),
    "7003": ("expiration date and time", re.compile(r"^\d{10}$")),
}
# Resolver parameters that are not data attributes.
_RESOLVER_PARAMETERS = {"linkType", "context", "lang"}

_CSET82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$")
_PERCENT_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
MAX_PATH_LENGTH = 512
# RFC 3986 unreserved characters stay as they are; every other byte is percent-encoded.
_SAFE = "-._~"


@dataclass(frozen=True, slots=True)
class DigitalLink:
    """The identifiers in a GS1 Digital Link: GTIN-14 and optional CPV, lot and serial."""

    gtin: str
    lot: str | None = None
    serial: str | None = None
    cpv: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The canonical path: numeric AIs, GTIN-14, qualifiers in order, values percent-encoded."""
        parts = [f"/01/{self.gtin}"]
        for ai, value in (("22", self.cpv), ("10", self.lot), ("21", self.serial)):
            if value is not None:
                parts.append(f"/{ai}/{quote(value, safe=_SAFE)}")
        return "".join(parts)

    def uri(self, base: str = "https://id.gs1.org") -> str:
        """The Digital Link on `base` (a resolver's public URL); data attributes are left out."""
        return base.rstrip("/") + self.path


def _decode(ai: str, raw: str) -> str:
    """One path value, percent-decoded once and checked against CSET 82."""
    what = QUALIFIERS[ai]
    if _PERCENT_ESCAPE.search(raw):
        raise InvalidDigitalLinkError(reason=f"the {what} has a malformed percent escape")
    try:
        value = unquote(raw, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InvalidDigitalLinkError(reason=f"the {what} is not valid UTF-8") from None
    if not value:
        raise InvalidDigitalLinkError(reason=f"the {what} is empty")
    if len(value) > 20:
        raise InvalidDigitalLinkError(reason=f"the {what} is longer than 20 characters")
    if not _CSET82.match(value):
        raise InvalidDigitalLinkError(
            reason=f"the {what} {value!r} has characters outside GS1 CSET 82"
        )
    if value in {".", ".."} or value.startswith("../") or "/../" in value or value.endswith("/.."):
        raise InvalidDigitalLinkError(reason=f"the {what} looks like a path traversal")
    return value


def _attributes(query: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in _RESOLVER_PARAMETERS:
            continue
        if key not in ATTRIBUTES:
            continue  # unknown query keys are ignored, as GS1's resolver does
        name, pattern = ATTRIBUTES[key]
        if not pattern.match(value):
            raise InvalidDigitalLinkError(reason=f"the {name} ({key}={value!r}) is malformed")
        attributes[key] = value
    return attributes


def parse_digital_link(path: str, query: str = "") -> DigitalLink:
    """Parses the raw (still percent-encoded) path of a Digital Link and its query string.

    The primary key is found by scanning from the right, so a resolver prefix before ``/01/`` is
    allowed, as in GS1's own syntax engine.
    """
    if len(path) > MAX_PATH_LENGTH:
        raise InvalidDigitalLinkError(
            reason=f"the path is longer than {MAX_PATH_LENGTH} characters"
        )
    segments = path.split("/")
    if segments and segments[0] == "":
        segments = segments[1:]
    if segments and segments[-1] == "":
        segments = segments[:-1]
    try:
        start = len(segments) - 1 - segments[::-1].index("01")
    except ValueError:
        raise InvalidDigitalLinkError(reason="there is no GTIN (AI 01) in the path") from None
    # A value equal to "01" could be mistaken for the key; the leftmost "01" with an even tail
    # of (ai, value) pairs is the key.
    while (len(segments) - start) % 2 != 0 and "01" in segments[:start]:
        start = start - 1 - segments[:start][::-1].index("01")
    pairs = segments[start:]
    if len(pairs) % 2 != 0:
        raise InvalidDigitalLinkError(reason="every AI in the path needs a value after it")
    try:
        gtin_raw = unquote(pairs[1])
        if not gtin_raw.isascii() or not gtin_raw.isdigit():
            raise InvalidDigitalLinkError(reason=f"the GTIN {gtin_raw!r} is not all digits")
        gtin = normalize_gtin(gtin_raw)
    except InvalidGs1KeyError as error:
        raise InvalidDigitalLinkError(reason=f"the GTIN {error.value!r} {error.reason}") from None
    values: dict[str, str] = {}
    last = -1
    for ai, raw in zip(pairs[2::2], pairs[3::2], strict=True):
        if ai not in QUALIFIERS:
            raise InvalidDigitalLinkError(reason=f"AI {ai!r} cannot qualify a GTIN here")
        position = _QUALIFIER_ORDER.index(ai)
        if ai in values:
            raise InvalidDigitalLinkError(reason=f"the {QUALIFIERS[ai]} (AI {ai}) appears twice")
        if position < last:
            raise InvalidDigitalLinkError(
                reason=f"the {QUALIFIERS[ai]} (AI {ai}) must come before the "
                f"{QUALIFIERS[_QUALIFIER_ORDER[last]]} (AI {_QUALIFIER_ORDER[last]})"
            )
        last = position
        values[ai] = _decode(ai, raw)
    return DigitalLink(
        gtin=gtin,
        cpv=values.get("22"),
        lot=values.get("10"),
        serial=values.get("21"),
        attributes=_attributes(query),
    )
