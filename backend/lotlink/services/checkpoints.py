"""Accepting checkpoints: one EPCIS event, its lots' hash chains, its signature and its outbox
entry, all written in one database transaction.

Invariants:

- A lot's ``head_digest`` is its latest event; a new event names the heads of all the lots it
  touches in ``lotlink:previous`` and becomes their head. Writers to one lot are serialised by
  locking the lot rows first (``SELECT … FOR UPDATE`` on PostgreSQL, a no-op ``UPDATE`` that
  takes SQLite's write lock), and the head moves only by compare-and-set.
- The digest is the idempotency key: an event already stored is returned, never stored twice.
- Nothing is half-written: any failure rolls the whole transaction back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from eth_utils import to_checksum_address
from sqlalchemy import CursorResult, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lotlink.chain.addresses import checksum_address
from lotlink.chain.typed_data import recover_typed_address, sign_typed
from lotlink.db.bulk import chunks, existing, table_of
from lotlink.epcis.build import (
    CONTEXT,
    DOCUMENTS,
    finish_event,
    lot_of_uri,
    stored_document,
    stored_event,
)
from lotlink.epcis.event_hash import digest_to_hash_id, event_digest
from lotlink.errors import (
    InvalidInputError,
    LotlinkError,
    RoleNotAllowedError,
    SignatureMismatchError,
    StaleHeadError,
    UnknownLotError,
)
from lotlink.keystore import load_custodial_account
from lotlink.models import (
    Actor,
    Checkpoint,
    CheckpointDocument,
    CheckpointLot,
    CheckpointStatus,
    Custody,
    Lot,
    OutboxEntry,
)
from lotlink.models.types import utc_now
from lotlink.services.actors import actor_roles
from lotlink.services.chain_access import ChainAccess
from lotlink.services.checkpoint_rows import TouchedLot, distinct_lots, event_columns, to_milli
from lotlink.vocabulary import CheckpointKind, Role

#: Who may record which kind: the contracts' table (`recordCheckpoint`), enforced here first.
KIND_ROLES: dict[CheckpointKind, tuple[Role, ...]] = {
    CheckpointKind.PRODUCED: (Role.SUPPLIER,),
    CheckpointKind.TRANSFORMED: (Role.SUPPLIER,),
    CheckpointKind.INSPECTED: (Role.INSPECTOR, Role.SUPPLIER),
    CheckpointKind.SHIPPED: (Role.SUPPLIER, Role.CARRIER),
    CheckpointKind.RECEIVED: (Role.SUPPLIER, Role.CARRIER),
}
_ATTEMPTS = 5
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Signer:
    """What the write needs of the actor, copied out of the session (rollbacks expire rows)."""

    address: str
    custodial: bool
    gln: str | None

    @classmethod
    def of(cls, actor: Actor) -> Signer:
        return cls(checksum_address(actor.address), actor.custody == Custody.CUSTODIAL, actor.gln)


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event before the lots' heads are known. `make_event(previous)` builds it."""

    kind: CheckpointKind
    lots: Sequence[TouchedLot]  # the primary lot (the one signed) first
    make_event: Callable[[Sequence[bytes]], dict[str, Any]]
    stated_previous: Sequence[bytes] | None
    signature: bytes | None
    documents: Sequence[str]
    context: Any = None

    @property
    def primary(self) -> TouchedLot:
        return self.lots[0]


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A stored event as a write answers it: built from the rows just written (no read back),
    or from the database for an event that was stored before."""

    digest: str
    event_id: str
    kind: CheckpointKind
    status: CheckpointStatus
    signer_address: str
    signature: str
    primary_lot_key: str
    previous: dict[str, str | None]  # lot key -> its previous event, for each lot touched
    record_time: datetime
    event: dict[str, Any]

    @classmethod
    def of(cls, checkpoint: Checkpoint) -> StoredCheckpoint:
        event, _ = stored_event(checkpoint.epcis_json)
        return cls(
            digest=checkpoint.digest,
            event_id=checkpoint.event_id,
            kind=checkpoint.kind,
            status=checkpoint.status,
            signer_address=checkpoint.signer_address,
            signature=checkpoint.signature,
            primary_lot_key=checkpoint.primary_lot_key,
            previous={link.lot_key: link.prev_digest for link in checkpoint.lots},
            record_time=checkpoint.record_time,
            event=event,
        )


@dataclass(frozen=True, slots=True)
class Accepted:
    checkpoint: StoredCheckpoint
    created: bool


def check_kind_role(actor: Actor, kind: CheckpointKind) -> None:
    allowed = KIND_ROLES[kind]
    if not actor_roles(actor) & set(allowed):
        raise RoleNotAllowedError(
            actor=actor.address, action=f"record {kind} checkpoints", allowed=list(allowed)
        )


def checkpoint_message(digest: bytes, lot_key_hex: str, kind: CheckpointKind) -> dict[str, Any]:
    """The EIP-712 `Checkpoint(bytes32 eventHash,bytes32 lotKey,uint8 kind)` an actor signs."""
    return {"eventHash": digest, "lotKey": bytes.fromhex(lot_key_hex[2:]), "kind": kind.code}


def lock_lots(session: Session, lots: Sequence[TouchedLot]) -> dict[str, str | None]:
    """Locks the lots' rows for this transaction and returns their heads; UnknownLotError for a
    lot that is not registered. Must be the transaction's first statement: on PostgreSQL it
    takes the rows' locks (``SELECT … FOR UPDATE``); on SQLite a writing session's transaction
    began IMMEDIATE, holding the database's write lock already (`lotlink.db.engine`)."""
    keys = sorted({lot.lot_key for lot in lots})
    rows = session.execute(
        select(Lot.lot_key, Lot.head_digest)
        .where(Lot.lot_key.in_(keys))
        .order_by(Lot.lot_key)
        .with_for_update()
    ).all()
    heads = {str(key): head for key, head in rows}
    for lot in lots:
        if lot.lot_key not in heads:
            raise UnknownLotError(lot=lot.lot_key, field=lot.field)
    return heads


def accept_event(
    session: Session, chain: ChainAccess, signer: Signer, draft: EventDraft
) -> Accepted:
    """Stores the event (once), chained after its lots' heads, signed, and queued for anchoring."""
    return accept_events(session, chain, signer, [draft])[0]


def accept_events(
    session: Session, chain: ChainAccess, signer: Signer, drafts: Sequence[EventDraft]
) -> list[Accepted]:
    """Accepts the events in order, all or none, in one transaction of their own."""
    return accept_prepared(session, chain, prepare_events(chain, signer, drafts))


def accept_prepared(
    session: Session, chain: ChainAccess, prepared: PreparedEvents
) -> list[Accepted]:
    """Stores prepared events, all or none, in one transaction of their own."""
    return in_write_transaction(
        session, lambda: write_events(session, chain, prepared), conflict=prepared.conflict
    )


def in_write_transaction(
    session: Session, write: Callable[[], _T], *, conflict: Callable[[], LotlinkError]
) -> _T:
    """`write()` in a transaction of its own, committed; tried again from the start when a
    concurrent writer's row makes it fail with IntegrityError, and `conflict()` raised when
    every attempt did. `write` must lock the lots first (`lock_lots`)."""
    session.commit()  # end any read transaction: the lots' lock must come first
    for _ in range(_ATTEMPTS):
        try:
            result = write()
            session.commit()
            return result
        except IntegrityError:
            # A concurrent writer got there first (same event, or a head moved under us).
            session.rollback()
        except BaseException:
            session.rollback()
            raise
    raise conflict()


@dataclass(frozen=True, slots=True)
class PreparedEvents:
    """Events made ready for the lock by `prepare_events`, for `write_events` to store."""

    signer: Signer
    drafts: Sequence[EventDraft]
    signed: Sequence[_Signed | None]  # per draft: made, hashed and signed, if its client chained it
    now: datetime

    @property
    def count(self) -> int:
        return len(self.drafts)

    def conflict(self) -> StaleHeadError:
        """What to answer when every attempt met a concurrent writer."""
        return StaleHeadError(lot_key=self.drafts[0].primary.lot_key, stated=None, head=None)


def prepare_events(
    chain: ChainAccess, signer: Signer, drafts: Sequence[EventDraft]
) -> PreparedEvents:
    """What needs no lock, done before taking it: an event whose client stated its predecessors
    is hashed, its signature checked (or made) and its rows built here, so that the lots stay
    locked only for the reads and writes (on SQLite the lock is the database's one writer, which
    every other writer waits for).

    Each step is taken for all the events before the next (made and hashed, then signatures
    checked, then rows built), not event by event: checking a signature walks libsecp256k1's
    precomputed tables, about a megabyte, and interleaved with it the hashing and the rows
    took a quarter longer, their data evicted from the processor's cache at every event.
    An error is raised as event by event: the first failing event's, at its first failing step.
    """
    now = utc_now()
    steps = _InEventOrder()
    stated = [i for i, draft in enumerate(drafts) if draft.stated_previous is not None]
    made = steps.run(stated, lambda i: _made(drafts[i]))
    checked = steps.run(list(made), lambda i: _checked(chain, signer, drafts[i], made[i][1]))

    def signed(i: int) -> _Signed:
        event, digest = made[i]
        signature = checked[i]
        if isinstance(signature, LotlinkError):
            return _Signed(digest, None, signature)
        return _Signed(digest, _Prepared.of(signer, drafts[i], event, digest, signature, now), None)

    done = steps.run(list(checked), signed)
    steps.raise_first()
    return PreparedEvents(signer, drafts, [done.get(i) for i in range(len(drafts))], now)


def write_events(session: Session, chain: ChainAccess, prepared: PreparedEvents) -> list[Accepted]:
    """Writes the prepared events in order in the session's transaction (begun here if none
    is), committing nothing; IntegrityError if a concurrent writer got there first."""
    return write_captures(session, chain, [prepared])[0]


def write_captures(
    session: Session, chain: ChainAccess, captures: Sequence[PreparedEvents]
) -> list[list[Accepted]]:
    """Writes several prepared captures, one after the other, as `write_events` writes one,
    but with one statement per step for all of them: their lots locked at once, their stored
    events looked up at once, their rows inserted and their lots' heads moved at once.

    The lots' heads are followed in memory from event to event, the rows are written with one
    executemany per table, and each lot's head moved once. (Row by row, the ORM's flush per
    event and an UPDATE per lot per event were most of a capture's time.)
    """
    with session.no_autoflush:
        lots = [lot for capture in captures for draft in capture.drafts for lot in draft.lots]
        locked = lock_lots(session, lots)
        heads = dict(locked)
        signed = [s.digest for capture in captures for s in capture.signed if s is not None]
        known = _stored_checkpoints(session, signed)
        rows = _NewRows()
        written = []
        for capture in captures:
            rows.now = capture.now
            accepted = []
            for draft, stated in zip(capture.drafts, capture.signed, strict=True):
                mine = {lot.lot_key: heads[lot.lot_key] for lot in draft.lots}
                result = _accept_once(
                    session, chain, capture.signer, draft, stated, mine, known, rows
                )
                if result.created:
                    heads.update(dict.fromkeys(mine, result.checkpoint.digest))
                    known[result.checkpoint.digest] = result.checkpoint
                accepted.append(result)
            written.append(accepted)
        rows.insert(session)
    _advance_heads(session, locked, heads)
    return written


def _advance_heads(
    session: Session, locked: dict[str, str | None], heads: dict[str, str | None]
) -> None:
    """Moves each lot's head from what was locked to its last new event."""
    for lot_key in sorted(k for k in heads if heads[k] != locked[k]):
        moved = session.execute(
            update(Lot)
            .where(Lot.lot_key == lot_key, Lot.head_digest.is_not_distinct_from(locked[lot_key]))
            .values(head_digest=heads[lot_key])
            .execution_options(synchronize_session=False)
        )
        if cast("CursorResult[Any]", moved).rowcount != 1:
            # Cannot happen under the lock; never advance a head that moved.
            raise StaleHeadError(lot_key=lot_key, stated=locked[lot_key], head=None)


@dataclass(frozen=True, slots=True)
class _Signed:
    """An event whose predecessors its client stated: made, hashed and signed before the lock.
    A signature that does not fit is kept as `refusal`, raised only if the event is new (a
    repeat of a stored event is answered with that event, as it always was)."""

    digest: bytes
    prepared: _Prepared | None
    refusal: LotlinkError | None


class _InEventOrder:
    """Runs steps over events one step at a time, failing as one event after another would:
    a step stops at its first failing event, and later steps take only the events before it."""

    def __init__(self) -> None:
        self._failed: tuple[int, Exception] | None = None

    def run(self, indices: Sequence[int], step: Callable[[int], _T]) -> dict[int, _T]:
        """`step` of each event in `indices` (in order) before the first failure so far."""
        done: dict[int, _T] = {}
        for i in indices:
            if self._failed is not None and i >= self._failed[0]:
                break
            try:
                done[i] = step(i)
            except Exception as error:
                self._failed = (i, error)
                break
        return done

    def raise_first(self) -> None:
        if self._failed is not None:
            raise self._failed[1]


def _made(draft: EventDraft) -> tuple[dict[str, Any], bytes]:
    """The event of a draft whose client stated its predecessors, and its digest."""
    assert draft.stated_previous is not None
    event = draft.make_event(draft.stated_previous)
    return event, event_digest(event, context=draft.context)


def _checked(
    chain: ChainAccess, signer: Signer, draft: EventDraft, digest: bytes
) -> bytes | LotlinkError:
    """The event's signature, or the refusal of one that does not fit."""
    try:
        return _signature(chain, signer, draft, digest)
    except (SignatureMismatchError, InvalidInputError) as refusal:
        return refusal


def _stored_checkpoints(session: Session, digests: Sequence[bytes]) -> dict[str, StoredCheckpoint]:
    """The events among `digests` already stored, by 0x-hex digest: which exist is asked first
    (digests only, usually none), and only those are loaded."""
    keys = ["0x" + d.hex() for d in digests]
    found = sorted(existing(session.connection(), Checkpoint.digest, keys))
    stored: dict[str, StoredCheckpoint] = {}
    for chunk in chunks(found):
        rows = session.scalars(
            select(Checkpoint)
            .where(Checkpoint.digest.in_(chunk))
            .options(selectinload(Checkpoint.lots))
        )
        stored.update((row.digest, StoredCheckpoint.of(row)) for row in rows)
    return stored


def _accept_once(
    session: Session,
    chain: ChainAccess,
    signer: Signer,
    draft: EventDraft,
    stated: _Signed | None,
    heads: dict[str, str | None],
    known: dict[str, StoredCheckpoint],
    rows: _NewRows,
) -> Accepted:
    """One event after `heads` (its lots' current heads, locked by the caller); `known` holds
    the stored events among the stated ones and those accepted so far in this transaction."""
    current = sorted({bytes.fromhex(h[2:]) for h in heads.values() if h is not None})
    if stated is not None:
        assert draft.stated_previous is not None
        digest = stated.digest
        if (existing := known.get("0x" + digest.hex())) is not None:
            return Accepted(existing, created=False)
        stated_set = {bytes(d) for d in draft.stated_previous}
        if stated_set != set(current):
            moved = next(
                (
                    lot
                    for lot in draft.lots
                    if (head := heads[lot.lot_key]) is not None
                    and bytes.fromhex(head[2:]) not in stated_set
                ),
                draft.primary,
            )
            raise StaleHeadError(
                lot_key=moved.lot_key,
                stated=", ".join(sorted("0x" + d.hex() for d in stated_set)) or None,
                head=heads[moved.lot_key],
            )
        if stated.refusal is not None:
            raise stated.refusal
        assert stated.prepared is not None
        return Accepted(rows.add(stated.prepared, heads), created=True)
    retried = _repeated_submission(session, draft, heads)
    if retried is not None:
        return Accepted(retried, created=False)
    event = draft.make_event(current)
    digest = event_digest(event, context=draft.context)
    key = "0x" + digest.hex()
    existing = known.get(key) or _stored_checkpoints(session, [digest]).get(key)
    if existing is not None:
        return Accepted(existing, created=False)
    signature = _signature(chain, signer, draft, digest)
    prepared = _Prepared.of(signer, draft, event, digest, signature, rows.now)
    return Accepted(rows.add(prepared, heads), created=True)


def _repeated_submission(
    session: Session, draft: EventDraft, heads: dict[str, str | None]
) -> StoredCheckpoint | None:
    """The stored event this submission repeats, if the client is retrying its last one: the
    same event chained after the heads' own predecessors is already the heads' event."""
    head_digests = {h for h in heads.values() if h is not None}
    if not head_digests:
        return None
    links = session.execute(
        select(CheckpointLot.lot_key, CheckpointLot.prev_digest).where(
            CheckpointLot.checkpoint_digest.in_(head_digests)
        )
    ).all()
    before = {str(key): prev for key, prev in links if heads.get(str(key)) is not None}
    if set(before) != {k for k, h in heads.items() if h is not None}:
        return None
    previous = sorted({bytes.fromhex(p[2:]) for p in before.values() if p is not None})
    digest = event_digest(draft.make_event(previous), context=draft.context)
    if "0x" + digest.hex() not in head_digests:
        return None
    return _stored_checkpoints(session, [digest]).get("0x" + digest.hex())


def _signature(chain: ChainAccess, signer: Signer, draft: EventDraft, digest: bytes) -> bytes:
    message = checkpoint_message(digest, draft.primary.lot_key, draft.kind)
    domain = chain.contract.domain
    if draft.signature is not None:
        try:
            recovered: str | None = recover_typed_address(
                "Checkpoint", message, domain, draft.signature
            )
        except ValueError:  # malformed: wrong length, bad v, s out of range
            recovered = None
        if recovered != signer.address.lower():
            raise SignatureMismatchError(
                field="signature",
                expected=signer.address,
                recovered=None if recovered is None else to_checksum_address(recovered),
            )
        return draft.signature
    if not signer.custodial:
        raise InvalidInputError(
            field="signature",
            reason="a self-custody actor must sign Checkpoint(eventHash, lotKey, kind) itself",
        )
    account = load_custodial_account(chain.settings, signer.address)
    return sign_typed(account, "Checkpoint", message, domain)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """An accepted event's rows, all but its lot links' predecessors (the heads it follows)."""

    event: dict[str, Any]  # as stored, with its eventID
    checkpoint: dict[str, Any]
    lots: list[TouchedLot]  # each lot once, as its links store them
    documents: list[dict[str, Any]]

    @classmethod
    def of(
        cls,
        signer: Signer,
        draft: EventDraft,
        event: dict[str, Any],
        digest: bytes,
        signature: bytes,
        now: datetime,
    ) -> _Prepared:
        key = "0x" + digest.hex()
        event = finish_event(event, digest)
        checkpoint = {
            "digest": key,
            "event_id": digest_to_hash_id(digest),
            "epcis_json": stored_document(event, context=draft.context, created=now),
            "kind": draft.kind,
            "status": CheckpointStatus.PENDING,
            "record_time": now,
            "primary_lot_key": draft.primary.lot_key,
            "signer_address": signer.address.lower(),
            "signature": "0x" + signature.hex(),
            **event_columns(event),
        }
        documents = [
            {"checkpoint_digest": key, "document_sha256": "0x" + sha}
            for sha in sorted(set(draft.documents))
        ]
        return cls(event, checkpoint, distinct_lots(list(draft.lots)), documents)

    def record(self, previous: dict[str, str | None]) -> StoredCheckpoint:
        """The event as the write answers it, following `previous` (lot key -> its head)."""
        row = self.checkpoint
        return StoredCheckpoint(
            digest=row["digest"],
            event_id=row["event_id"],
            kind=row["kind"],
            status=row["status"],
            signer_address=row["signer_address"],
            signature=row["signature"],
            primary_lot_key=row["primary_lot_key"],
            previous=previous,
            record_time=row["record_time"],
            event=self.event,
        )


class _NewRows:
    """The rows of the events a transaction accepts, written together at its end: one
    executemany per table, in acceptance order (a lot link's predecessor is always written
    before it, in this batch or before)."""

    def __init__(self) -> None:
        self.now = utc_now()  # the record time of events made under the lock
        self.checkpoints: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        self.documents: list[dict[str, Any]] = []

    def add(self, prepared: _Prepared, heads: dict[str, str | None]) -> StoredCheckpoint:
        """Adds the event's rows, its lots' links following `heads`; its record."""
        key = prepared.checkpoint["digest"]
        self.checkpoints.append(prepared.checkpoint)
        self.links.extend(
            {"lot_key": lot.lot_key, "checkpoint_digest": key, "prev_digest": heads[lot.lot_key],
             "quantity_milli": lot.quantity_milli, "unit": lot.unit}
            for lot in prepared.lots
        )  # fmt: skip
        self.documents.extend(prepared.documents)
        return prepared.record({lot.lot_key: heads[lot.lot_key] for lot in prepared.lots})

    def insert(self, session: Session) -> None:
        if not self.checkpoints:
            return
        session.execute(insert(table_of(Checkpoint)), self.checkpoints)
        session.execute(insert(table_of(CheckpointLot)), self.links)
        if self.documents:
            session.execute(insert(table_of(CheckpointDocument)), self.documents)
        session.execute(
            insert(table_of(OutboxEntry)),
            [
                {"event_digest": row["digest"], "enqueued_at": row["record_time"]}
                for row in self.checkpoints
            ],
        )


def documents_of(event: dict[str, Any]) -> list[str]:
    """The SHA-256 hex of the documents an event cites (``lotlink:documents``)."""
    values = event.get(DOCUMENTS, [])
    if not isinstance(values, list):
        raise InvalidInputError(field=f"$.{DOCUMENTS}", reason="must be a list")
    out = []
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.startswith("ni:///sha-256;"):
            raise InvalidInputError(
                field=f"$.{DOCUMENTS}[{i}]", reason="must be ni:///sha-256;<hex>"
            )
        out.append(value.removeprefix("ni:///sha-256;").split("?")[0])
    return out


__all__ = [
    "CONTEXT",
    "Accepted",
    "EventDraft",
    "PreparedEvents",
    "Signer",
    "StoredCheckpoint",
    "TouchedLot",
    "accept_event",
    "accept_events",
    "accept_prepared",
    "in_write_transaction",
    "lock_lots",
    "lot_of_uri",
    "prepare_events",
    "to_milli",
    "write_captures",
    "write_events",
]
