"""Lots: validated, registered on chain signed by their supplier, stored with their lineage.

The chain is written first and the database after: a lot exists once the chain says so. The
database rows then carry the LotRegistered log's block, transaction and index.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal

from eth_utils import keccak
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lotlink.chain.contract import ContractRevertError
from lotlink.epcis.build import LotRef
from lotlink.errors import (
    DuplicateLotError,
    InvalidGs1KeyError,
    InvalidInputError,
    SignatureMismatchError,
    UnknownLotError,
)
from lotlink.gs1.keys import lot_key
from lotlink.models import Actor, LineageEdge, Lot
from lotlink.schemas.lots import LotCreate
from lotlink.services.authorization import authorize_write
from lotlink.services.chain_access import ChainAccess

#: A lot key as every surface spells it: 0x and the 64 hex digits of its keccak256.
LOT_KEY_PATTERN = r"^0x[0-9a-fA-F]{64}$"
_LOT_KEY = re.compile(LOT_KEY_PATTERN)


def details_hash(product_name: str | None) -> bytes:
    """The bytes32 the chain keeps for a lot's off-chain details: keccak256 of their canonical
    JSON (sorted keys, no spaces), or zero when there are none."""
    if product_name is None:
        return bytes(32)
    details = json.dumps({"productName": product_name}, sort_keys=True, separators=(",", ":"))
    return keccak(details.encode())


def milli(quantity: Decimal) -> int:
    return int(quantity * 1000)


def lot_key_hex(ref: LotRef) -> str:
    return "0x" + lot_key(ref.gtin, ref.lot_code).hex()


def _ref(gtin: str, lot_code: str, *, field: str) -> LotRef:
    try:
        return LotRef.of(gtin, lot_code)
    except InvalidGs1KeyError as error:
        bad = "gtin" if error.key == "GTIN" else "lot_code"
        raise InvalidInputError(field=f"{field}{bad}", reason=str(error)) from None


@dataclass(frozen=True, slots=True)
class LotRegistration:
    """The `registerLot` argument, as the chain and the signer see it."""

    ref: LotRef
    parents: list[Lot]
    parent_quantities: list[int]
    quantity: int
    unit: str
    details: bytes

    def as_tuple(self) -> tuple[object, ...]:
        return (
            self.ref.gtin,
            self.ref.lot_code,
            [bytes.fromhex(p.lot_key[2:]) for p in self.parents],
            self.parent_quantities,
            self.quantity,
            self.unit,
            self.details,
        )


def parse_lot_key(text: str, *, field: str) -> str:
    """`text` as a lot key in its one stored spelling (lowercase hex); InvalidInputError naming
    `field` when it is not 0x and 64 hex digits."""
    if not _LOT_KEY.fullmatch(text):
        raise InvalidInputError(
            field=field, reason=f"{text[:80]!r} is not a 0x lot key of 64 hex digits"
        )
    return text.lower()


def find_lot(session: Session, key: str, *, field: str = "lot") -> Lot:
    """The lot with this 0x lot key, its parents loaded; InvalidInputError naming `field` for a
    malformed key (checked here, before the column type refuses it inside the query), else
    UnknownLotError when no lot has it."""
    lot = session.scalar(
        select(Lot)
        .where(Lot.lot_key == parse_lot_key(key, field=field))
        .options(selectinload(Lot.parent_edges).selectinload(LineageEdge.parent))
    )
    if lot is None:
        raise UnknownLotError(lot=key, field=field)
    return lot


def find_lot_by_code(session: Session, gtin: str, lot_code: str) -> Lot:
    return find_lot(session, lot_key_hex(_ref(gtin, lot_code, field="")))


def prepare_registration(session: Session, form: LotCreate) -> LotRegistration:
    """Validates the form against the database: the lot is new and its parents exist."""
    ref = _ref(form.gtin, form.lot_code, field="")
    key = lot_key_hex(ref)
    if session.get(Lot, key) is not None:
        raise DuplicateLotError(gtin=ref.gtin, lot_code=ref.lot_code, lot_key=key)
    parents: list[Lot] = []
    for i, parent in enumerate(form.parents):
        parent_ref = _ref(parent.gtin, parent.lot_code, field=f"parents[{i}].")
        row = session.get(Lot, lot_key_hex(parent_ref))
        if row is None:
            raise UnknownLotError(
                lot=f"{parent_ref.gtin}/{parent_ref.lot_code}", field=f"parents[{i}]"
            )
        if row in parents or row.lot_key == key:
            raise InvalidInputError(field=f"parents[{i}]", reason="names a lot twice")
        parents.append(row)
    return LotRegistration(
        ref=ref,
        parents=parents,
        parent_quantities=[milli(p.quantity) for p in form.parents],
        quantity=milli(form.quantity),
        unit=form.unit,
        details=details_hash(form.product_name),
    )


def register_lot(session: Session, chain: ChainAccess, actor: Actor, form: LotCreate) -> Lot:
    """Registers the lot on chain (signed by `actor`, relayed) and stores it with its lineage."""
    registration = prepare_registration(session, form)
    auth = authorize_write(
        chain, actor, "registerLot", (registration.as_tuple(),), form.authorization
    )
    key = lot_key_hex(registration.ref)
    session.commit()  # no transaction stays open across the chain round trip
    try:
        receipt = chain.relayer.send("registerLot", registration.as_tuple(), auth=auth)
    except ContractRevertError as error:
        raise _refusal(error, registration, key) from None
    position = chain.log_of(receipt, "LotRegistered")
    lot = Lot(
        lot_key=key,
        gtin=registration.ref.gtin,
        lot_code=registration.ref.lot_code,
        product_name=form.product_name,
        quantity_milli=registration.quantity,
        unit=registration.unit,
        owner_address=actor.address.lower(),
        details_hash="0x" + registration.details.hex(),
        block_number=position.block_number,
        tx_hash=position.tx_hash,
        log_index=position.log_index,
    )
    for parent, quantity in zip(registration.parents, registration.parent_quantities, strict=True):
        lot.parent_edges.append(
            LineageEdge(parent_key=parent.lot_key, quantity_milli=quantity, unit=parent.unit)
        )
    session.add(lot)
    try:
        session.commit()
    except IntegrityError:  # the indexer stored it from the chain first: the chain's row wins
        session.rollback()
    return find_lot(session, key)


def _refusal(error: ContractRevertError, registration: LotRegistration, key: str) -> Exception:
    name = error.error_name
    ref = registration.ref
    if name == "LotlinkDuplicateLot":
        return DuplicateLotError(gtin=ref.gtin, lot_code=ref.lot_code, lot_key=key)
    if name == "LotlinkInvalidSigner":
        recovered = str(error.error_args.get("recovered"))
        return SignatureMismatchError(
            field="authorization.signature",
            expected=str(error.error_args.get("signer")),
            recovered=recovered,
        )
    if name == "LotlinkExpiredSignature":
        return InvalidInputError(field="authorization.deadline", reason="the signature expired")
    if name == "InvalidAccountNonce":
        return InvalidInputError(field="authorization.nonce", reason="the nonce was used already")
    if name == "LotlinkUnknownLot":
        return UnknownLotError(lot="0x" + bytes(error.error_args["lotKey"]).hex(), field="parents")
    return InvalidInputError(field="lot", reason=str(error))
