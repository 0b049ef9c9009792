"""Issue, update and close recalls on chain, signed by a regulator or the lots' owner.

The chain keeps `reasonHash`, the keccak-256 of the recall's wording as canonical JSON (keys
sorted, no spaces, UTF-8): {"consumer": …, "reason": …, "trade": …}. Anyone holding the wording
can recompute it, so the reason and instructions shown on pages are bound to the chain.

Lookups (`list_recalls` with a `RecallFilter`) find the recalls that *reach* a set of lots: those
naming one of the lots and, unless ``inherited`` is off, those naming any lot upstream of one of
them (a recall of the milk reaches the formula made from it, as `recall_status` says per lot).
The lots are chosen by GTIN, by GTIN and lot code, and by GLN: the lots owned by the actor
registered with that GLN, and the lots with a checkpoint at that location (bizLocation or
readPoint) or shipped to it (the shipment's destination), i.e. what is or was held there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from eth_utils import keccak, to_checksum_address
from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lotlink.chain.contract import ContractRevertError
from lotlink.epcis.build import gln_uri
from lotlink.errors import (
    InvalidGs1KeyError,
    InvalidInputError,
    RecallNotFoundError,
    RoleNotAllowedError,
)
from lotlink.gs1.keys import lot_key, normalize_gln, normalize_gtin, validate_lot_code
from lotlink.indexer.derived import lots_and_ancestors
from lotlink.models import Actor, Checkpoint, CheckpointLot, Lot, Recall, RecallLot
from lotlink.models.recall import RecallStatus, closing_hash
from lotlink.schemas.recalls import RecallClose, RecallCreate, RecallUpdate, RecallWording
from lotlink.services.authorization import authorize_write
from lotlink.services.chain_access import ChainAccess
from lotlink.services.lots import find_lot, find_lot_by_code


def reason_hash(wording: RecallWording) -> bytes:
    """keccak-256 of the wording's canonical JSON: what the chain holds as `reasonHash`."""
    canonical = json.dumps(
        {
            "consumer": wording.consumer_instructions,
            "reason": wording.reason,
            "trade": wording.trade_instructions,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return keccak(canonical.encode("utf-8"))


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _block_time(chain: ChainAccess, block_number: int) -> datetime:
    block = chain.contract.w3.eth.get_block(block_number)
    return datetime.fromtimestamp(int(block["timestamp"]), UTC)


def issue_recall(session: Session, chain: ChainAccess, actor: Actor, form: RecallCreate) -> Recall:
    """Recalls the lots: any lot for a regulator, only its own for a supplier (voluntary)."""
    keys: list[str] = []
    for index, named in enumerate(form.lots):
        field = f"lots.{index}"
        if named.lot_key is not None:
            lot = find_lot(session, named.lot_key, field=field)
        else:
            assert named.gtin is not None and named.lot_code is not None
            lot = find_lot_by_code(session, named.gtin, named.lot_code)
        if lot.lot_key in keys:
            raise InvalidInputError(field=field, reason=f"lot {lot.lot_key} is named twice")
        keys.append(lot.lot_key)
    lot_keys = [bytes.fromhex(key[2:]) for key in keys]
    digest = reason_hash(form)
    args = (lot_keys, form.recall_class, digest)
    auth = authorize_write(chain, actor, "issueRecall", args, form.authorization)
    session.commit()  # no transaction stays open across the chain round trip
    try:
        receipt = chain.relayer.send("issueRecall", *args, auth=auth)
    except ContractRevertError as error:
        raise _refusal(error, actor, keys) from None
    issued = chain.log_of(receipt, "RecallIssued")
    recall_id = int(issued.args["recallId"])
    recall = session.get(Recall, recall_id)
    if recall is None:
        recall = Recall(
            recall_id=recall_id,
            issuer_address=actor.address.lower(),
            recall_class=form.recall_class,
            reason_hash=_hex(digest),
            voluntary=bool(issued.args["voluntary"]),
            issued_at=_block_time(chain, issued.block_number),
            block_number=issued.block_number,
            tx_hash=issued.tx_hash,
            log_index=issued.log_index,
        )
        for recalled in chain.logs_of(receipt, "LotRecalled"):
            recall.lots.append(
                RecallLot(
                    lot_key="0x" + bytes(recalled.args["lotKey"]).hex(),
                    block_number=recalled.block_number,
                    tx_hash=recalled.tx_hash,
                    log_index=recalled.log_index,
                )
            )
        session.add(recall)
    _set_wording(recall, form)
    try:
        session.commit()
    except IntegrityError:  # the indexer stored it meanwhile: keep its row, add the wording
        session.rollback()
        recall = get_recall(session, recall_id)
        _set_wording(recall, form)
        session.commit()
    return get_recall(session, recall_id)


def update_recall(
    session: Session, chain: ChainAccess, actor: Actor, recall_id: int, form: RecallUpdate
) -> Recall:
    """Changes an active recall's class or wording: its issuer or any regulator."""
    get_recall(session, recall_id)
    digest = reason_hash(form)
    args = (recall_id, form.recall_class, digest)
    auth = authorize_write(chain, actor, "updateRecall", args, form.authorization)
    session.commit()
    try:
        receipt = chain.relayer.send("updateRecall", *args, auth=auth)
    except ContractRevertError as error:
        raise _refusal(error, actor, []) from None
    updated = chain.log_of(receipt, "RecallUpdated")
    recall = get_recall(session, recall_id)
    recall.recall_class = form.recall_class
    recall.reason_hash = _hex(digest)
    recall.updated_by = actor.address.lower()
    recall.updated_block = updated.block_number
    recall.updated_at = _block_time(chain, updated.block_number)
    _set_wording(recall, form)
    session.commit()
    return recall


def close_recall(
    session: Session, chain: ChainAccess, actor: Actor, recall_id: int, form: RecallClose
) -> Recall:
    """Ends an active recall: its issuer or any regulator. The chain keeps the hash of the
    closing words; the words themselves are stored here, beside it."""
    get_recall(session, recall_id)
    digest = closing_hash(form.reason)
    args = (recall_id, bytes.fromhex(digest[2:]))
    auth = authorize_write(chain, actor, "closeRecall", args, form.authorization)
    session.commit()
    try:
        receipt = chain.relayer.send("closeRecall", *args, auth=auth)
    except ContractRevertError as error:
        raise _refusal(error, actor, []) from None
    closed = chain.log_of(receipt, "RecallClosed")
    recall = get_recall(session, recall_id)
    recall.status = RecallStatus.CLOSED
    recall.closed_by = actor.address.lower()
    recall.closed_reason_hash = digest
    recall.closed_reason = form.reason
    recall.closed_block = closed.block_number
    recall.closed_at = _block_time(chain, closed.block_number)
    session.commit()
    return recall


def get_recall(session: Session, recall_id: int) -> Recall:
    recall = session.get(Recall, recall_id, options=[selectinload(Recall.lots)])
    if recall is None:
        raise RecallNotFoundError(recall_id=recall_id)
    return recall


@dataclass(frozen=True, slots=True)
class RecallFilter:
    """What a recall lookup asks for; build it with `recall_filter`, which validates.

    Dates are UTC days, both ends included. ``active_on`` asks for the recalls active at any
    moment of that day, closed since or not.
    """

    gtin: str | None = None  # GTIN-14
    lot_code: str | None = None  # only with gtin
    gln: str | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    active_on: date | None = None
    inherited: bool = True

    @property
    def names_lots(self) -> bool:
        return self.gtin is not None or self.gln is not None


def recall_filter(
    *,
    gtin: str | None = None,
    lot_code: str | None = None,
    gln: str | None = None,
    issued_from: date | None = None,
    issued_to: date | None = None,
    active_on: date | None = None,
    inherited: bool = True,
) -> RecallFilter:
    """A checked `RecallFilter`: GTIN-8/12/13/14 normalised to GTIN-14, GLN and lot code
    checked; InvalidInputError naming the field otherwise."""
    try:
        gtin14 = None if gtin is None else normalize_gtin(gtin)
    except InvalidGs1KeyError as error:
        raise InvalidInputError(field="gtin", reason=str(error)) from None
    if lot_code is not None:
        if gtin14 is None:
            raise InvalidInputError(field="lot_code", reason="a lot code needs its gtin")
        try:
            validate_lot_code(lot_code)
        except InvalidGs1KeyError as error:
            raise InvalidInputError(field="lot_code", reason=str(error)) from None
    try:
        gln13 = None if gln is None else normalize_gln(gln)
    except InvalidGs1KeyError as error:
        raise InvalidInputError(field="gln", reason=str(error)) from None
    if issued_from is not None and issued_to is not None and issued_to < issued_from:
        raise InvalidInputError(
            field="issued_to", reason=f"{issued_to} is before issued_from {issued_from}"
        )
    return RecallFilter(gtin14, lot_code, gln13, issued_from, issued_to, active_on, inherited)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def lots_at_gln(gln: str) -> Select[str]:
    """Lot keys owned by the actor registered with `gln`, or recorded at or shipped to `gln`."""
    owners = select(Actor.address).where(Actor.gln == gln)
    handled = (
        select(CheckpointLot.lot_key)
        .join(Checkpoint, Checkpoint.digest == CheckpointLot.checkpoint_digest)
        .where(or_(Checkpoint.location_gln == gln, Checkpoint.destination_party == gln_uri(gln)))
    )
    return select(Lot.lot_key).where(or_(Lot.owner_address.in_(owners), Lot.lot_key.in_(handled)))


def _lots_asked(filters: RecallFilter) -> Select[str]:
    query = select(Lot.lot_key.label("lot_key"))
    if filters.gtin is not None and filters.lot_code is not None:
        query = query.where(Lot.lot_key == "0x" + lot_key(filters.gtin, filters.lot_code).hex())
    elif filters.gtin is not None:
        query = query.where(Lot.gtin == filters.gtin)
    if filters.gln is not None:
        query = query.where(Lot.lot_key.in_(lots_at_gln(filters.gln)))
    return query


def list_recalls(
    session: Session, *, active_only: bool = True, filters: RecallFilter | None = None
) -> list[Recall]:
    """Recalls, most severe class first, newest first within a class: active ones only unless
    `active_only` is off or `filters` asks for those active on a day (see the module's
    docstring for which lots a filter reaches)."""
    filters = filters or RecallFilter()
    query = select(Recall).options(selectinload(Recall.lots).selectinload(RecallLot.lot))
    if filters.active_on is not None:
        query = query.where(
            Recall.issued_at < _start_of(filters.active_on + timedelta(days=1)),
            or_(Recall.closed_at.is_(None), Recall.closed_at >= _start_of(filters.active_on)),
        )
    elif active_only:
        query = query.where(Recall.status == RecallStatus.ACTIVE)
    if filters.issued_from is not None:
        query = query.where(Recall.issued_at >= _start_of(filters.issued_from))
    if filters.issued_to is not None:
        query = query.where(Recall.issued_at < _start_of(filters.issued_to + timedelta(days=1)))
    if filters.names_lots:
        asked = _lots_asked(filters)
        reached = select(lots_and_ancestors(asked)) if filters.inherited else asked
        query = query.where(
            Recall.recall_id.in_(select(RecallLot.recall_id).where(RecallLot.lot_key.in_(reached)))
        )
    return list(session.scalars(query.order_by(Recall.recall_class, Recall.issued_at.desc())))


def _set_wording(recall: Recall, wording: RecallWording) -> None:
    recall.reason = wording.reason
    recall.instructions_consumer = wording.consumer_instructions
    recall.instructions_trade = wording.trade_instructions


def _refusal(error: ContractRevertError, actor: Actor, keys: list[str]) -> Exception:
    name = error.error_name
    who = to_checksum_address(actor.address)
    if name == "LotlinkNotLotOwner":
        lot = "0x" + bytes(error.error_args["lotKey"]).hex()
        return RoleNotAllowedError(
            actor=who, action=f"recall lot {lot}, which it does not own", allowed=["regulator"]
        )
    if name == "LotlinkNotRecallAuthority":
        return RoleNotAllowedError(
            actor=who, action="change this recall", allowed=["its issuer", "regulator"]
        )
    if name == "LotlinkRecallNotActive":
        return InvalidInputError(field="recall", reason="the recall is closed")
    if name == "LotlinkUnknownRecall":
        return RecallNotFoundError(recall_id=int(error.error_args["recallId"]))
    return InvalidInputError(field="recall", reason=str(error))
