"""Regulators' reads: a lot's trace upstream and downstream, and evidence bundles.

``GET /api/v1/lots/{lot_key}/trace?direction=upstream|downstream|both``
    Every lot in the trace with its share of the traced lot (mass balance, see
    `lotlink.services.trace`), the lineage edges with consumed quantities, and every shipment
    and receipt of those lots with places and units received versus shipped.
``GET /api/v1/lots/{lot_key}/evidence`` and ``GET /api/v1/recalls/{recall_id}/evidence``
    One JSON file (`lotlink.services.evidence`) that `lotlink verify BUNDLE --rpc URL` checks
    against the chain with nothing else.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from eth_utils import to_checksum_address
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from lotlink.api.deps import SessionDep
from lotlink.epcis.build import json_number
from lotlink.services.evidence import lot_bundle, recall_bundle
from lotlink.services.lots import find_lot
from lotlink.services.trace import Direction, Movement, Place, Trace, trace

router = APIRouter(prefix="/api/v1", tags=["regulators"])


def _qty(milli: int | None) -> int | float | None:
    return None if milli is None else json_number(Decimal(milli) / 1000)


def _place(place: Place) -> dict[str, Any]:
    return {"gln": place.gln, "name": place.name}


def _movement(m: Movement | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        "digest": m.digest,
        "kind": m.kind,
        "time": m.event_time.isoformat(),
        "place": _place(m.place),
        "quantity": _qty(m.quantity_milli),
        "unit": m.unit,
        "signer": to_checksum_address(m.signer),
        "anchored": m.anchored,
        "tx_hash": m.tx_hash,
        "block_number": m.block_number,
    }


def trace_document(found: Trace) -> dict[str, Any]:
    """A trace as JSON: quantities in their units (not thousandths), shares as fractions."""
    return {
        "lot_key": found.lot_key,
        "direction": found.direction.value,
        "lots": [
            {
                "lot_key": lot.lot_key,
                "gtin": lot.gtin,
                "lot_code": lot.lot_code,
                "product_name": lot.product_name,
                "quantity": _qty(lot.quantity_milli),
                "unit": lot.unit,
                "owner": to_checksum_address(lot.owner),
                "owner_name": lot.owner_name,
                "direction": lot.direction,
                "depth": lot.depth,
                "share": lot.share,
                "traced_quantity": _qty(lot.traced_quantity_milli),
            }
            for lot in found.lots
        ],
        "edges": [
            {
                "parent": e.parent_key,
                "child": e.child_key,
                "quantity": _qty(e.quantity_milli),
                "unit": e.unit,
            }
            for e in found.edges
        ],
        "shipments": [
            {
                "lot_key": s.lot_key,
                "shipped": _movement(s.shipped),
                "received": _movement(s.received),
                "destinations": [_place(p) for p in s.destinations],
                "shipped_quantity": _qty(s.shipped_milli),
                "received_quantity": _qty(s.received_milli),
                "missing_quantity": None
                if s.shipped_milli is None or s.received_milli is None
                else _qty(s.shipped_milli - s.received_milli),
            }
            for s in found.shipments
        ],
    }


@router.get("/lots/{lot_key}/trace", summary="Trace a lot upstream and downstream")
def read_trace(
    lot_key: str,
    session: SessionDep,
    direction: Annotated[Direction, Query(description="upstream, downstream or both")] = (
        Direction.BOTH
    ),
) -> dict[str, Any]:
    lot = find_lot(session, lot_key, field="lot_key")
    return trace_document(trace(session, lot.lot_key, direction))


def _where(request: Request) -> dict[str, Any]:
    deployment = request.app.state.deployment
    if deployment is None:
        return {"chain_id": 0, "contract_address": "0x" + "00" * 20}
    return {"chain_id": deployment.chain_id, "contract_address": deployment.address()}


def _download(bundle: dict[str, Any], name: str) -> JSONResponse:
    return JSONResponse(
        bundle, headers={"Content-Disposition": f'attachment; filename="{name}.evidence.json"'}
    )


@router.get("/lots/{lot_key}/evidence", summary="Evidence bundle of a lot's trace")
def read_lot_evidence(lot_key: str, session: SessionDep, request: Request) -> JSONResponse:
    lot = find_lot(session, lot_key, field="lot_key")
    bundle = lot_bundle(session, lot.lot_key, **_where(request))
    return _download(bundle, f"lot-{lot.gtin}-{lot.lot_code}")


@router.get("/recalls/{recall_id}/evidence", summary="Evidence bundle of a recall")
def read_recall_evidence(recall_id: int, session: SessionDep, request: Request) -> JSONResponse:
    return _download(recall_bundle(session, recall_id, **_where(request)), f"recall-{recall_id}")
