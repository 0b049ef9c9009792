"""`/api/v1/lots`: register a lot (suppliers) and read one.

A lot is named in URLs by its lot key (``/api/v1/lots/0x…``) or by GTIN and lot code
(``/api/v1/lots/{gtin}/{lot_code}``; a lot code holding ``/`` must use the lot key form).
"""

from __future__ import annotations

from eth_utils import to_checksum_address
from fastapi import APIRouter, Response, status

from lotlink.api.deps import ChainDep, SessionDep, SupplierDep
from lotlink.epcis.build import LotRef, json_number
from lotlink.models import Lot
from lotlink.schemas.lots import LotCreate, LotPublic, ParentPublic
from lotlink.services.lots import find_lot, find_lot_by_code, register_lot

router = APIRouter(prefix="/api/v1/lots", tags=["lots"])


def _quantity(milli: int) -> int | float:
    from decimal import Decimal

    return json_number(Decimal(milli) / 1000)


def lot_public(lot: Lot) -> LotPublic:
    return LotPublic(
        lot_key=lot.lot_key,
        gtin=lot.gtin,
        lot_code=lot.lot_code,
        digital_link=LotRef(lot.gtin, lot.lot_code).uri,
        product_name=lot.product_name,
        quantity=_quantity(lot.quantity_milli),
        unit=lot.unit,
        owner=to_checksum_address(lot.owner_address),
        head_digest=lot.head_digest,
        details_hash=lot.details_hash,
        parents=[
            ParentPublic(
                lot_key=edge.parent_key,
                gtin=edge.parent.gtin,
                lot_code=edge.parent.lot_code,
                quantity=_quantity(edge.quantity_milli),
                unit=edge.unit,
            )
            for edge in lot.parent_edges
        ],
        block_number=lot.block_number,
        tx_hash=lot.tx_hash,
        log_index=lot.log_index,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a lot on chain, signed by its supplier",
    responses={409: {"description": "The lot is already registered."}},
)
def create_lot(
    form: LotCreate, actor: SupplierDep, session: SessionDep, chain: ChainDep, response: Response
) -> LotPublic:
    lot = register_lot(session, chain, actor, form)
    response.headers["Location"] = f"/api/v1/lots/{lot.lot_key}"
    return lot_public(lot)


@router.get("/{lot_key}", summary="A lot by its lot key")
def read_lot(lot_key: str, session: SessionDep) -> LotPublic:
    return lot_public(find_lot(session, lot_key, field="lot_key"))


@router.get("/{gtin}/{lot_code}", summary="A lot by GTIN and lot code")
def read_lot_by_code(gtin: str, lot_code: str, session: SessionDep) -> LotPublic:
    return lot_public(find_lot_by_code(session, gtin, lot_code))
