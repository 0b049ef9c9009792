"""FSMA 204 (21 CFR 1 Subpart S, §1.1455(c)(3)(ii)): the electronic sortable spreadsheet of Key
Data Elements, one row per Critical Tracking Event and traceability lot code.

**CTEs from checkpoint kinds.** A traceability lot code (TLC) is the lot's GTIN and lot code,
``(01)GTIN(10)LOT``. Lotlink's checkpoint kinds map to the rule's CTEs so:

=============== ======================================================================
checkpoint      CTE (one row per lot the event names, except as said)
=============== ======================================================================
``produced``    *Initial packing* (§1.1330) of a lot registered without parents: the TLC is
                assigned there; *Transformation* (§1.1350) of a lot registered with parents
``transformed`` *Transformation*: one row per output lot, its inputs' TLCs and quantities in
                ``input_tlcs``
``shipped``     *Shipping* (§1.1340): ship-from is the event's location, ship-to its
                (first) destination
``received``    *Receiving* (§1.1345): ship-from is the event's (first) source, ship-to the
                event's location
``inspected``   not a CTE: no row
=============== ======================================================================

Harvesting and cooling (§1.1325) precede the first lot Lotlink registers, so they have no
checkpoint of their own; a farm that packs records them as the lot's ``produced`` event.

**Which rows.** The lots asked for (by lot key, TLC or GTIN, and with ``trace`` every lot
upstream and/or downstream of the lots named), and each CTE touching one of them, a
transformation row included when one of the lots is among its inputs. ``date_from``/``date_to``
keep the events of those UTC days (both included); with no lot named, every lot's. A regulator
sees every row; another actor the rows of events it signed or of lots it owns (its own records).

**Columns.** Those of ``COLUMNS``: the TLC and its parts, product description, quantity and unit
of measure (as the event states them), event date (local to the event) and time, location
(GLN and the name of the actor registered there), ship-from and ship-to, the TLC source (where
the TLC was assigned: the location of the lot's packing or transformation event, else its
owner's GLN), input TLCs, the reference document (the event's first ``bizTransaction``, else
the first document it cites, else the EPCIS event itself), who recorded it, and the receipt
reference: event ID, anchoring transaction, block, Merkle root, log index and the receipt URL
(``GET /api/v1/checkpoints/{digest}/receipt``, self-contained, checkable against the chain).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotlink.epcis.build import DOCUMENTS, json_number, lots_named
from lotlink.gs1.keys import lot_key
from lotlink.models import Actor, AnchorReceipt, Checkpoint, CheckpointKind, CheckpointLot, Lot
from lotlink.services.fsma204_scope import Fsma204Request, chunks, events_asked, lots_asked
from lotlink.services.trace import GLN_URI

#: FSMA's reference document types for the CBV 2.0 business transaction types.
_DOCUMENT_TYPES = {
    "bol": "Bill of lading",
    "desadv": "Advance ship notice",
    "inv": "Invoice",
    "po": "Purchase order",
    "prodorder": "Production order",
    "recadv": "Receiving advice",
    "rma": "Return merchandise authorisation",
}


class Cte(StrEnum):
    INITIAL_PACKING = "Initial packing"
    TRANSFORMATION = "Transformation"
    SHIPPING = "Shipping"
    RECEIVING = "Receiving"


#: (key, header) of every column, in order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("cte", "Critical tracking event"),
    ("tlc", "Traceability lot code"),
    ("gtin", "GTIN"),
    ("lot_code", "Lot code"),
    ("product", "Product description"),
    ("quantity", "Quantity"),
    ("unit", "Unit of measure"),
    ("event_date", "Event date"),
    ("event_time", "Event time (as recorded)"),
    ("event_time_utc", "Event time (UTC)"),
    ("location_gln", "Location GLN"),
    ("location_name", "Location name"),
    ("ship_from_gln", "Ship-from GLN"),
    ("ship_from_name", "Ship-from name"),
    ("ship_to_gln", "Ship-to GLN"),
    ("ship_to_name", "Ship-to name"),
    ("tlc_source_gln", "TLC source GLN"),
    ("tlc_source_name", "TLC source name"),
    ("input_tlcs", "Input TLCs (quantity, unit)"),
    ("reference_type", "Reference document type"),
    ("reference_number", "Reference document number"),
    ("recorded_by", "Recorded by"),
    ("event_id", "Event ID"),
    ("anchor_status", "Anchor status"),
    ("anchor_tx", "Anchor transaction"),
    ("anchor_block", "Anchor block"),
    ("merkle_root", "Merkle root"),
    ("anchor_log_index", "Anchor log index"),
    ("receipt_url", "Receipt"),
)


@dataclass(frozen=True, slots=True)
class _Line:
    """One lot an event names, as its JSON says."""

    role: str  # "output", "input" or "observed"
    key: str
    gtin: str
    lot_code: str
    quantity: int | float | None
    unit: str | None


def _lines(event: dict[str, Any]) -> list[_Line]:
    lines = []
    for path, ref, element in lots_named(event):
        role = "observed"
        if path.startswith(("$.outputQuantityList", "$.outputEPCList")):
            role = "output"
        elif path.startswith(("$.inputQuantityList", "$.inputEPCList")):
            role = "input"
        quantity = element.get("quantity")
        lines.append(
            _Line(
                role,
                "0x" + lot_key(ref.gtin, ref.lot_code).hex(),
                ref.gtin,
                ref.lot_code,
                quantity if isinstance(quantity, int | float) else None,
                element.get("uom"),
            )
        )
    return lines


def _gln(uri: Any) -> str | None:
    if isinstance(uri, str) and uri.startswith(GLN_URI):
        return uri.removeprefix(GLN_URI).split("/")[0]
    return None


def _first_party(event: dict[str, Any], name: str, key: str) -> str | None:
    for entry in event.get(name) or []:
        if isinstance(entry, dict) and (gln := _gln(entry.get(key))):
            return gln
    return None


def _reference(event: dict[str, Any]) -> tuple[str, str]:
    """(type, number) of the event's reference document: its first business transaction (a
    bill of lading, a purchase order…), else the first document it cites, else itself."""
    for entry in event.get("bizTransactionList") or []:
        if isinstance(entry, dict) and entry.get("bizTransaction"):
            # "bol", "https://ref.gs1.org/cbv/BTT-bol" or "urn:epcglobal:cbv:btt:bol"
            kind = str(entry.get("type") or "business transaction")
            kind = kind.rsplit("/", 1)[-1].rsplit(":", 1)[-1].removeprefix("BTT-")
            return _DOCUMENT_TYPES.get(kind, kind), str(entry["bizTransaction"])
    for cited in event.get(DOCUMENTS) or []:
        return "Document (SHA-256)", str(cited).rsplit(";", 1)[-1]
    return "EPCIS event", str(event.get("eventID", ""))


def _tlc(gtin: str, lot_code: str) -> str:
    return f"(01){gtin}(10){lot_code}"


def _sources(session: Session, keys: set[str]) -> dict[str, str | None]:
    """The GLN where each lot's TLC was assigned: its packing or transformation event's
    location; lots without one are left out (their owner's GLN stands in)."""
    source: dict[str, str | None] = {}
    for chunk in chunks(sorted(keys)):
        rows = session.execute(
            select(Checkpoint.epcis_json, Checkpoint.location_gln, Checkpoint.kind)
            .join(CheckpointLot, CheckpointLot.checkpoint_digest == Checkpoint.digest)
            .where(
                CheckpointLot.lot_key.in_(chunk),
                Checkpoint.kind.in_([CheckpointKind.PRODUCED, CheckpointKind.TRANSFORMED]),
            )
            .order_by(Checkpoint.event_time)
        )
        for text, gln, _kind in rows:
            event = json.loads(text)["epcisBody"]["eventList"][0]
            for line in _lines(event):
                if line.role != "input" and line.key in keys:
                    source.setdefault(line.key, gln)
    return source


@dataclass(frozen=True, slots=True)
class _Known:
    """What the rows need besides their events, each read once."""

    lots: dict[str, Lot]
    with_parents: set[str]
    tlc_source: dict[str, str | None]
    name_of_gln: dict[str, str | None]
    gln_of_address: dict[str, str | None]
    name_of_address: dict[str, str | None]

    @classmethod
    def read(cls, session: Session, keys: set[str]) -> _Known:
        ordered = sorted(keys)
        lots = {
            lot.lot_key: lot
            for chunk in chunks(ordered)
            for lot in session.scalars(select(Lot).where(Lot.lot_key.in_(chunk)))
        }
        with_parents = {
            key
            for chunk in chunks(ordered)
            for key in session.scalars(
                select(Lot.lot_key).where(Lot.lot_key.in_(chunk), Lot.parent_edges.any())
            )
        }
        actors = session.execute(select(Actor.address, Actor.gln, Actor.name)).all()
        return cls(
            lots=lots,
            with_parents=with_parents,
            tlc_source=_sources(session, keys),
            name_of_gln={str(g): n for _, g, n in actors if g},
            gln_of_address={str(a): g for a, g, _ in actors},
            name_of_address={str(a): n for a, _, n in actors},
        )

    def name(self, gln: str | None) -> str | None:
        return None if gln is None else self.name_of_gln.get(gln)


_CTE_OF_KIND = {
    CheckpointKind.TRANSFORMED: Cte.TRANSFORMATION,
    CheckpointKind.SHIPPED: Cte.SHIPPING,
    CheckpointKind.RECEIVED: Cte.RECEIVING,
}


def _cte(kind: CheckpointKind, line: _Line, known: _Known) -> Cte:
    if kind is CheckpointKind.PRODUCED:
        return Cte.TRANSFORMATION if line.key in known.with_parents else Cte.INITIAL_PACKING
    return _CTE_OF_KIND[kind]


def _inputs(inputs: list[_Line]) -> str | None:
    parts = [
        " ".join(str(p) for p in (_tlc(x.gtin, x.lot_code), x.quantity, x.unit) if p is not None)
        for x in inputs
    ]
    return "; ".join(parts) or None


def _row(
    known: _Known,
    checkpoint: Checkpoint,
    receipt: AnchorReceipt | None,
    event: dict[str, Any],
    line: _Line,
    inputs: list[_Line],
    base_url: str,
) -> dict[str, Any]:
    kind, here = checkpoint.kind, checkpoint.location_gln
    cte = _cte(kind, line, known)
    lot = known.lots.get(line.key)
    quantity, unit = line.quantity, line.unit
    if quantity is None and lot is not None and cte in (Cte.INITIAL_PACKING, Cte.TRANSFORMATION):
        # A packing or transformation that states no quantity made the lot as registered.
        quantity, unit = json_number(Decimal(lot.quantity_milli) / 1000), lot.unit
    ship_from = ship_to = None
    if kind is CheckpointKind.SHIPPED:
        ship_from, ship_to = here, _first_party(event, "destinationList", "destination")
    elif kind is CheckpointKind.RECEIVED:
        ship_from, ship_to = _first_party(event, "sourceList", "source"), here
    owner = None if lot is None else lot.owner_address
    source = known.tlc_source.get(line.key) or known.gln_of_address.get(owner or "")
    reference_type, reference_number = _reference(event)
    return {
        "cte": cte.value,
        "tlc": _tlc(line.gtin, line.lot_code),
        "gtin": line.gtin,
        "lot_code": line.lot_code,
        "product": None if lot is None else lot.product_name,
        "quantity": quantity,
        "unit": unit,
        "event_date": datetime.fromisoformat(str(event["eventTime"])).date().isoformat(),
        "event_time": str(event["eventTime"]),
        "event_time_utc": checkpoint.event_time.astimezone(UTC),
        "location_gln": here,
        "location_name": known.name(here),
        "ship_from_gln": ship_from,
        "ship_from_name": known.name(ship_from),
        "ship_to_gln": ship_to,
        "ship_to_name": known.name(ship_to),
        "tlc_source_gln": source,
        "tlc_source_name": known.name(source),
        "input_tlcs": _inputs(inputs),
        "reference_type": reference_type,
        "reference_number": reference_number,
        "recorded_by": known.name_of_address.get(checkpoint.signer_address)
        or checkpoint.signer_address,
        "event_id": checkpoint.event_id,
        "anchor_status": "anchored" if receipt is not None else checkpoint.status.value,
        "anchor_tx": None if receipt is None else receipt.tx_hash,
        "anchor_block": None if receipt is None else receipt.block_number,
        "merkle_root": None if receipt is None else receipt.batch_root,
        "anchor_log_index": None if receipt is None else receipt.log_index,
        "receipt_url": f"{base_url.rstrip('/')}/api/v1/checkpoints/{checkpoint.digest}/receipt",
    }


def fsma204_rows(
    session: Session,
    request: Fsma204Request,
    *,
    visible_to: str | None = None,
    base_url: str = "",
) -> list[dict[str, Any]]:
    """The spreadsheet's rows (dicts keyed as `COLUMNS`), in event time order; `visible_to`
    (an address) keeps only the rows of events it signed or lots it owns."""
    asked = lots_asked(session, request)
    wanted = None if asked is None else set(asked)
    parsed: list[tuple[Checkpoint, AnchorReceipt | None, dict[str, Any], list[_Line]]] = []
    for checkpoint, receipt in events_asked(session, request, asked):
        event = json.loads(checkpoint.epcis_json)["epcisBody"]["eventList"][0]
        parsed.append((checkpoint, receipt, event, _lines(event)))
    known = _Known.read(session, {line.key for *_, lines in parsed for line in lines})
    me = None if visible_to is None else visible_to.lower()
    rows: list[dict[str, Any]] = []
    for checkpoint, receipt, event, lines in parsed:
        inputs: list[_Line] = []
        if checkpoint.kind is CheckpointKind.TRANSFORMED:
            if wanted is not None and not any(x.key in wanted for x in lines):
                continue
            subjects = [x for x in lines if x.role == "output"]
            inputs = [x for x in lines if x.role == "input"]
        else:
            subjects = [x for x in lines if wanted is None or x.key in wanted]
        for line in subjects:
            lot = known.lots.get(line.key)
            if me is not None and me not in (checkpoint.signer_address, lot and lot.owner_address):
                continue
            rows.append(_row(known, checkpoint, receipt, event, line, inputs, base_url))
    rows.sort(key=lambda r: (r["event_time_utc"], r["tlc"], r["cte"], r["event_id"]))
    return rows
