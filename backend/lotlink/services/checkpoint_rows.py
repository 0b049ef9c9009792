"""A checkpoint's row as its EPCIS event determines it: the columns copied out of the event for
filtering, and the lots it touches with their quantities.

The write path stores accepted events with these, and the indexer rebuilds the very same rows
from batch manifests (`lotlink.indexer.rebuild`), so both must read an event one way: here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from lotlink.epcis.build import bare_term, kind_of_event, lots_named
from lotlink.gs1.keys import lot_key
from lotlink.vocabulary import CheckpointKind


@dataclass(frozen=True, slots=True)
class TouchedLot:
    lot_key: str
    field: str  # the request field that names it
    quantity_milli: int | None = None
    unit: str | None = None


def to_milli(quantity: Any) -> int | None:
    """A quantity as thousandths, when it is exactly that; None otherwise."""
    if type(quantity) is int:  # most quantities: the same answer without a Decimal
        whole = quantity * 1000
        return whole if 0 <= whole < 2**63 else None
    try:
        milli = Decimal(str(quantity)) * 1000
    except (InvalidOperation, ValueError):
        return None
    return int(milli) if milli == milli.to_integral_value() and 0 <= milli < 2**63 else None


@lru_cache(maxsize=8192)  # the same few lots, event after event
def _lot_key_hex(gtin: str, lot_code: str) -> str:
    return "0x" + lot_key(gtin, lot_code).hex()


def touched_lots(event: Mapping[str, Any], *, prefix: str = "$") -> list[TouchedLot]:
    """Every lot `event` names, with the JSON path naming it and its quantity: the signed
    (primary) lot first, which for a transformation is its first output. May repeat a lot."""
    touched: list[TouchedLot] = []
    for path, ref, element in lots_named(event):
        quantity = element.get("quantity")
        unit = element.get("uom")
        touched.append(
            TouchedLot(
                lot_key=_lot_key_hex(ref.gtin, ref.lot_code),
                field=prefix + path[1:],
                quantity_milli=None if quantity is None else to_milli(quantity),
                unit=unit if isinstance(unit, str) else None,
            )
        )
    if kind_of_event(event) is CheckpointKind.TRANSFORMED:
        outputs = [t for t in touched if ".output" in t.field]
        touched = outputs[:1] + [t for t in touched if t not in outputs[:1]]
    return touched


def distinct_lots(lots: list[TouchedLot]) -> list[TouchedLot]:
    """`lots` with each lot once (its first mention wins), as an event's lot links store them."""
    seen: set[str] = set()
    out = []
    for lot in lots:
        if lot.lot_key not in seen:
            seen.add(lot.lot_key)
            out.append(lot)
    return out


def _party(entries: Any, key: str) -> str | None:
    if isinstance(entries, list) and entries and isinstance(entries[0], dict):
        value = entries[0].get(key)
        return str(value)[:200] if value is not None else None
    return None


def _location_gln(event: Mapping[str, Any]) -> str | None:
    for name in ("bizLocation", "readPoint"):
        value = event.get(name)
        uri = value.get("id") if isinstance(value, dict) else None
        if isinstance(uri, str) and uri.startswith("https://id.gs1.org/414/"):
            gln = uri.removeprefix("https://id.gs1.org/414/").split("/")[0]
            if len(gln) == 13 and gln.isdigit():
                return gln
    return None


def event_columns(event: Mapping[str, Any]) -> dict[str, Any]:
    """The `Checkpoint` columns that copy fields of `event`, by column name."""
    read_point = event.get("readPoint")
    biz_location = event.get("bizLocation")
    return {
        "event_type": str(event["type"]),
        "biz_step": bare_term(event.get("bizStep")),
        "disposition": bare_term(event.get("disposition")),
        "event_time": datetime.fromisoformat(event["eventTime"]),
        "event_time_offset": str(event["eventTimeZoneOffset"]),
        "read_point": read_point.get("id") if isinstance(read_point, dict) else None,
        "biz_location": biz_location.get("id") if isinstance(biz_location, dict) else None,
        "location_gln": _location_gln(event),
        "source_party": _party(event.get("sourceList"), "source"),
        "destination_party": _party(event.get("destinationList"), "destination"),
    }
