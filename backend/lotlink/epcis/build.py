"""Plain checkpoints as EPCIS 2.0 events (CBV 2.0), and the stored form every event is kept in.

The server and `lotlink submit` both build events here, so a client that signs locally and a
server that rebuilds from the same form arrive at the same bytes and the same digest.

Mapping (CBV 2.0; there is no ``transforming`` bizStep, the event type carries it):

=========== =================== ========================================== =====================
kind        event               bizStep (first is the default)             disposition (default)
=========== =================== ========================================== =====================
produced    ObjectEvent ADD     commissioning, creating_class_instance, …  active, in_progress
inspected   ObjectEvent OBSERVE inspecting, sampling, sensor_reporting     conformant, …
shipped     ObjectEvent OBSERVE shipping, staging_outbound, loading, …     in_transit
received    ObjectEvent OBSERVE receiving, arriving, accepting, storing    in_progress, …
transformed TransformationEvent commissioning, creating_class_instance, …  active, in_progress
=========== =================== ========================================== =====================

Every event carries ``lotlink:previous``: the event hash IDs (``ni:///sha-256;…``) of the
previous event of each lot it touches, sorted, empty for a lot's first event. It is inside what
is hashed and signed, so each lot's events form a hash chain.

**Stored form.** An accepted event is stored (``Checkpoint.epcis_json``) as an EPCISDocument
holding exactly that one event, serialised once: `stored_digest` re-hashes it, and GS1's
reference hasher gives the same digest on the same text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote

from lotlink.epcis.event_hash import digest_to_hash_id, event_digest
from lotlink.errors import InvalidInputError
from lotlink.gs1.keys import check_digit, normalize_gln, normalize_gtin, validate_lot_code
from lotlink.vocabulary import CheckpointKind

EPCIS_CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
LOTLINK_NS = "https://lotlink.dev/ns/epcis#"
CONTEXT: list[Any] = [EPCIS_CONTEXT_URL, {"lotlink": LOTLINK_NS}]
PREVIOUS = "lotlink:previous"
DOCUMENTS = "lotlink:documents"

BIZ_STEPS: dict[CheckpointKind, tuple[str, ...]] = {
    CheckpointKind.PRODUCED: (
        "commissioning",
        "creating_class_instance",
        "assembling",
        "repackaging",
    ),
    CheckpointKind.INSPECTED: ("inspecting", "sampling", "sensor_reporting"),
    CheckpointKind.SHIPPED: ("shipping", "staging_outbound", "loading", "departing"),
    CheckpointKind.RECEIVED: ("receiving", "arriving", "accepting", "storing"),
    CheckpointKind.TRANSFORMED: (
        "commissioning",
        "creating_class_instance",
        "assembling",
        "repackaging",
    ),
}
DISPOSITIONS: dict[CheckpointKind, tuple[str, ...]] = {
    CheckpointKind.PRODUCED: ("active", "in_progress"),
    CheckpointKind.INSPECTED: ("conformant", "non_conformant", "damaged"),
    CheckpointKind.SHIPPED: ("in_transit",),
    CheckpointKind.RECEIVED: ("in_progress", "sellable_not_accessible", "sellable_accessible"),
    CheckpointKind.TRANSFORMED: ("active", "in_progress"),
}
PARTY_TYPES = ("owning_party", "possessing_party", "location")

_MAX_OFFSET = timedelta(hours=14)
_DL_LOT = re.compile(r"^https://id\.gs1\.org/01/(\d{14})/10/([^/?#]+)(?:/21/[^/?#]+)?$")
_URN_LGTIN = re.compile(r"^urn:epc:(?:class|id):lgtin:(\d+)\.(\d+)\.(.+)$")
# Every field of an event that may name lots (EPC lists, quantity lists, parentID).
_LOT_FIELDS = (
    "epcList",
    "quantityList",
    "inputEPCList",
    "inputQuantityList",
    "outputEPCList",
    "outputQuantityList",
    "childEPCs",
    "childQuantityList",
    "parentID",
)


@dataclass(frozen=True, slots=True, order=True)
class LotRef:
    """A lot as GS1 names it: GTIN-14 and lot code (both validated)."""

    gtin: str
    lot_code: str

    @classmethod
    def of(cls, gtin: str, lot_code: str) -> LotRef:
        return cls(normalize_gtin(gtin), validate_lot_code(lot_code))

    @property
    def uri(self) -> str:
        """The lot's GS1 Digital Link URI, its EPCIS epcClass."""
        return f"https://id.gs1.org/01/{self.gtin}/10/{quote(self.lot_code, safe='')}"


@dataclass(frozen=True, slots=True)
class QuantityLine:
    lot: LotRef
    quantity: Decimal | None = None
    unit: str | None = None

    def as_epcis(self) -> dict[str, Any]:
        element: dict[str, Any] = {"epcClass": self.lot.uri}
        if self.quantity is not None:
            element["quantity"] = json_number(self.quantity)
            if self.unit is not None:
                element["uom"] = self.unit
        return element


@dataclass(frozen=True, slots=True)
class Party:
    type: str
    gln: str


@dataclass(frozen=True, slots=True)
class CheckpointSpec:
    """Everything a plain checkpoint says, validated; `build_event` turns it into EPCIS."""

    kind: CheckpointKind
    biz_step: str
    disposition: str
    event_time: datetime
    location_gln: str
    lots: Sequence[QuantityLine]  # the observed or produced lots; a transformation's outputs
    inputs: Sequence[QuantityLine] = ()  # a transformation's inputs
    sources: Sequence[Party] = ()
    destinations: Sequence[Party] = ()
    documents: Sequence[str] = ()  # SHA-256 hex of cited documents
    previous: Sequence[bytes] = field(default_factory=tuple)


def gln_uri(gln: str) -> str:
    return f"https://id.gs1.org/414/{gln}"


def json_number(value: Decimal) -> int | float:
    """A quantity as JSON: an integer when it is one (the hash writes 4.0 as 4 anyway)."""
    return int(value) if value == value.to_integral_value() else float(value)


def parse_event_time(text: str, *, field: str = "time") -> datetime:
    """An ISO 8601 instant with an offset (±14:00 at most), at most millisecond precision."""
    try:
        value = datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InvalidInputError(field=field, reason=f"{text!r} is not an ISO 8601 time") from None
    offset = value.utcoffset()
    if offset is None:
        raise InvalidInputError(field=field, reason=f"{text!r} has no offset (add Z or ±hh:mm)")
    if abs(offset) > _MAX_OFFSET or offset.seconds % 60 or offset.microseconds:
        raise InvalidInputError(field=field, reason=f"{text!r} has an offset beyond ±14:00")
    if value.microsecond % 1000:
        raise InvalidInputError(field=field, reason=f"{text!r} is finer than milliseconds")
    return value


def format_offset(value: datetime) -> str:
    offset = value.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def format_event_time(value: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss.sss±hh:mm``: exactly three fraction digits, in the stated offset."""
    stamp = value.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{value.microsecond // 1000:03d}{format_offset(value)}"


def previous_ids(previous: Sequence[bytes]) -> list[str]:
    return sorted({digest_to_hash_id(bytes(d)) for d in previous})


def document_id(sha256_hex: str) -> str:
    return f"ni:///sha-256;{sha256_hex.lower().removeprefix('0x')}"


def build_event(spec: CheckpointSpec) -> dict[str, Any]:
    """The EPCIS 2.0 event of a checkpoint, without eventID (see `finish_event`)."""
    if spec.biz_step not in BIZ_STEPS[spec.kind]:
        allowed = ", ".join(BIZ_STEPS[spec.kind])
        raise InvalidInputError(
            field="biz_step", reason=f"{spec.biz_step!r} does not fit {spec.kind}: use {allowed}"
        )
    if spec.disposition not in DISPOSITIONS[spec.kind]:
        allowed = ", ".join(DISPOSITIONS[spec.kind])
        raise InvalidInputError(
            field="disposition",
            reason=f"{spec.disposition!r} does not fit {spec.kind}: use {allowed}",
        )
    event: dict[str, Any] = {
        "type": "TransformationEvent" if spec.kind is CheckpointKind.TRANSFORMED else "ObjectEvent",
        "eventTime": format_event_time(spec.event_time),
        "eventTimeZoneOffset": format_offset(spec.event_time),
    }
    if spec.kind is CheckpointKind.TRANSFORMED:
        event["inputQuantityList"] = [line.as_epcis() for line in spec.inputs]
        event["outputQuantityList"] = [line.as_epcis() for line in spec.lots]
    else:
        event["action"] = "ADD" if spec.kind is CheckpointKind.PRODUCED else "OBSERVE"
        event["quantityList"] = [line.as_epcis() for line in spec.lots]
    location = gln_uri(normalize_gln(spec.location_gln))
    event |= {
        "bizStep": spec.biz_step,
        "disposition": spec.disposition,
        "readPoint": {"id": location},
        "bizLocation": {"id": location},
    }
    if spec.sources:
        event["sourceList"] = [{"type": p.type, "source": gln_uri(p.gln)} for p in spec.sources]
    if spec.destinations:
        event["destinationList"] = [
            {"type": p.type, "destination": gln_uri(p.gln)} for p in spec.destinations
        ]
    if spec.documents:
        event[DOCUMENTS] = sorted({document_id(d) for d in spec.documents})
    event[PREVIOUS] = previous_ids(spec.previous)
    return event


def digest_of(event: Mapping[str, Any]) -> bytes:
    """The CBV 2.0 event hash of an event in Lotlink's context: the digest anchored on chain."""
    return event_digest(event, context=CONTEXT)


def finish_event(event: Mapping[str, Any], digest: bytes) -> dict[str, Any]:
    """`event` with its eventID (the hash ID; the hash ignores eventID) right after its type."""
    if "eventID" in event:
        return dict(event)
    items = list(event.items())
    return dict([items[0], ("eventID", digest_to_hash_id(digest)), *items[1:]])


#: `json.dumps(…, ensure_ascii=False, separators=(",", ":"))`, made once: every stored event
#: is serialised with it, and `json.dumps` builds a new encoder per call given any option.
_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@lru_cache(maxsize=64)  # every event of a capture is stored with the same creation date
def _creation_date(created: datetime) -> str:
    return format_event_time(created.astimezone(UTC))


def stored_document(event: Mapping[str, Any], *, context: Any, created: datetime) -> str:
    """The stored form: a one-event EPCISDocument, serialised compactly in the event's key order."""
    document = {
        "@context": context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _creation_date(created),
        "epcisBody": {"eventList": [event if type(event) is dict else dict(event)]},
    }
    return _COMPACT_JSON.encode(document)


def stored_event(epcis_json: str) -> tuple[dict[str, Any], Any]:
    """(event, @context) of a stored document."""
    document = json.loads(epcis_json)
    return document["epcisBody"]["eventList"][0], document.get("@context")


def stored_digest(epcis_json: str) -> bytes:
    """Re-hashes a stored event: equal to ``Checkpoint.digest`` unless the text was altered."""
    event, context = stored_event(epcis_json)
    return event_digest(event, context=context)


# --- Reading captured events -------------------------------------------------------------


@lru_cache(maxsize=8192)  # a capture names the same few lots in event after event
def lot_of_uri(uri: str) -> LotRef | None:
    """The lot a Digital Link (…/01/<gtin>/10/<lot>) or an LGTIN URN names; None otherwise."""
    if match := _DL_LOT.match(uri):
        return LotRef.of(match[1], unquote(match[2]))
    if match := _URN_LGTIN.match(uri):
        prefix, item, lot = match[1], match[2], unquote(match[3])
        if not item:
            return None
        body = item[0] + prefix + item[1:]
        if len(body) != 13:
            return None
        return LotRef.of(body + str(check_digit(body)), lot)
    return None


def lots_named(event: Mapping[str, Any]) -> Iterator[tuple[str, LotRef, dict[str, Any]]]:
    """(JSON path, lot, quantity element or {}) of every lot an event names, in document order."""
    for name in _LOT_FIELDS:
        value = event.get(name)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            continue
        for i, item in enumerate(value):
            uri = item.get("epcClass") if isinstance(item, dict) else item
            if not isinstance(uri, str):
                continue
            path = f"$.{name}[{i}]" + (".epcClass" if isinstance(item, dict) else "")
            try:
                lot = lot_of_uri(uri)
            except Exception as error:
                raise InvalidInputError(field=path, reason=str(error)) from None
            if lot is not None:
                yield path, lot, item if isinstance(item, dict) else {}


def bare_term(value: Any) -> str | None:
    """A CBV value's bare term: ``shipping`` from ``shipping``, ``…/BizStep-shipping`` or
    ``urn:epcglobal:cbv:bizstep:shipping``."""
    if not isinstance(value, str):
        return None
    for separator in ("BizStep-", "Disp-", "bizstep:", "disp:"):
        if separator in value:
            return value.rsplit(separator, 1)[1]
    return value


def kind_of_event(event: Mapping[str, Any]) -> CheckpointKind:
    """The checkpoint kind a captured event records, from its type, action and bizStep."""
    if event.get("type") == "TransformationEvent":
        return CheckpointKind.TRANSFORMED
    step = bare_term(event.get("bizStep"))
    if event.get("type") == "ObjectEvent" and event.get("action") == "ADD":
        return CheckpointKind.PRODUCED
    for kind in (CheckpointKind.INSPECTED, CheckpointKind.SHIPPED, CheckpointKind.RECEIVED):
        if step in BIZ_STEPS[kind]:
            return kind
    steps = sorted({s for k in BIZ_STEPS.values() for s in k})
    raise InvalidInputError(
        field="$.bizStep",
        reason=f"{event.get('bizStep')!r} is not a Lotlink checkpoint step; use ADD, a "
        f"TransformationEvent or one of {', '.join(steps)}",
    )
