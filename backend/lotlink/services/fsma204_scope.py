"""Which lots and events an FSMA 204 export covers (see `lotlink.services.fsma204`): lots named
by key, TLC (GTIN/LOT) or GTIN, widened by a trace; events of the CTE kinds touching them, within
UTC days; with no lot named, every lot's events of those days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotlink.errors import InvalidGs1KeyError, InvalidInputError, UnknownLotError
from lotlink.gs1.keys import lot_key, normalize_gtin
from lotlink.indexer.derived import related_lots
from lotlink.models import AnchorReceipt, Checkpoint, CheckpointKind, CheckpointLot, Lot
from lotlink.services.lots import parse_lot_key
from lotlink.services.trace import Direction

_CHUNK = 900  # keys per IN (...): well under SQLite's and PostgreSQL's parameter limits
#: The checkpoint kinds that are critical tracking events (`inspected` is not).
CTE_KINDS = (
    CheckpointKind.PRODUCED,
    CheckpointKind.TRANSFORMED,
    CheckpointKind.SHIPPED,
    CheckpointKind.RECEIVED,
)


def chunks(items: list[str]) -> list[list[str]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


@dataclass(frozen=True, slots=True)
class Fsma204Request:
    """What the spreadsheet covers; build it with `fsma204_request`, which validates."""

    lot_keys: tuple[str, ...] = ()
    gtin: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    trace: Direction | None = None


def _tlc_key(text: str, index: int) -> str:
    gtin, slash, code = text.partition("/")
    if not slash:
        raise InvalidInputError(field=f"tlc.{index}", reason=f"{text!r} is not GTIN/LOT")
    try:
        return "0x" + lot_key(gtin, code).hex()
    except InvalidGs1KeyError as error:
        raise InvalidInputError(field=f"tlc.{index}", reason=str(error)) from None


def fsma204_request(
    *,
    lot_keys: Iterable[str] = (),
    tlcs: Iterable[str] = (),
    gtin: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    trace: Direction | None = None,
) -> Fsma204Request:
    """A checked request: lot keys as 0x hex, TLCs as GTIN/LOT (any GTIN length), a GTIN, a
    date range; at least one of them. InvalidInputError naming the field otherwise."""
    keys = [parse_lot_key(key, field=f"lot_key.{i}") for i, key in enumerate(lot_keys)]
    keys.extend(_tlc_key(text, i) for i, text in enumerate(tlcs))
    try:
        gtin14 = None if gtin is None else normalize_gtin(gtin)
    except InvalidGs1KeyError as error:
        raise InvalidInputError(field="gtin", reason=str(error)) from None
    if not keys and gtin14 is None and date_from is None and date_to is None:
        raise InvalidInputError(
            field="tlc", reason="name lots (tlc, lot_key or gtin) or dates (date_from, date_to)"
        )
    if date_from is not None and date_to is not None and date_to < date_from:
        raise InvalidInputError(field="date_to", reason=f"{date_to} is before {date_from}")
    if trace is not None and not keys and gtin14 is None:
        raise InvalidInputError(field="trace", reason="a trace needs lots (tlc, lot_key, gtin)")
    return Fsma204Request(tuple(dict.fromkeys(keys)), gtin14, date_from, date_to, trace)


def lots_asked(session: Session, request: Fsma204Request) -> list[str] | None:
    """The lot keys the request covers; None for every lot (dates only)."""
    if not request.lot_keys and request.gtin is None:
        return None
    known = {
        key
        for chunk in chunks(list(request.lot_keys))
        for key in session.scalars(select(Lot.lot_key).where(Lot.lot_key.in_(chunk)))
    }
    for key in request.lot_keys:
        if key not in known:
            raise UnknownLotError(lot=key, field="tlc")
    keys = set(request.lot_keys)
    if request.gtin is not None:
        keys.update(session.scalars(select(Lot.lot_key).where(Lot.gtin == request.gtin)))
    if request.trace is not None:
        for key in sorted(keys):
            if request.trace in (Direction.UPSTREAM, Direction.BOTH):
                keys.update(related_lots(session, key, upstream=True))
            if request.trace in (Direction.DOWNSTREAM, Direction.BOTH):
                keys.update(related_lots(session, key, upstream=False))
    return sorted(keys)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def events_asked(
    session: Session, request: Fsma204Request, keys: list[str] | None
) -> list[tuple[Checkpoint, AnchorReceipt | None]]:
    """The CTE-kind events touching `keys` (any lot's when None) in the request's days."""
    query = (
        select(Checkpoint, AnchorReceipt)
        .outerjoin(AnchorReceipt, AnchorReceipt.event_digest == Checkpoint.digest)
        .where(Checkpoint.kind.in_(CTE_KINDS))
    )
    if request.date_from is not None:
        query = query.where(Checkpoint.event_time >= _day_start(request.date_from))
    if request.date_to is not None:
        query = query.where(Checkpoint.event_time < _day_start(request.date_to + timedelta(1)))
    if keys is None:
        return [(c, r) for c, r in session.execute(query)]
    found: dict[str, tuple[Checkpoint, AnchorReceipt | None]] = {}
    for chunk in chunks(keys):
        touching = select(CheckpointLot.checkpoint_digest).where(CheckpointLot.lot_key.in_(chunk))
        for c, r in session.execute(query.where(Checkpoint.digest.in_(touching))):
            found[c.digest] = (c, r)
    return list(found.values())
