"""Safe retries of plain checkpoints with the ``Idempotency-Key`` request header
(draft-ietf-httpapi-idempotency-key-header).

An event's digest already makes a repeated submission harmless while the lot's head is
unchanged; but a form that leaves ``previous`` to the server is chained after the current head,
so a retry that arrives after another writer's event would become a second, different event,
kept forever by the hash chain. A key closes that gap: the server remembers, per actor, the key,
the request's fingerprint and the checkpoint it produced, in the transaction that stores the
event. The same key with the same request is answered with that checkpoint (200), whatever
happened to the lot since; the same key with another request is refused (422).

Two requests with one key for one lot are serialised by the lot's lock, under which the key is
read; with one key for two lots, the primary key (actor, key) lets one commit and the other is
tried again, finding the key taken.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import http_sfv
from sqlalchemy import CursorResult, Engine, delete, insert
from sqlalchemy.orm import Session, selectinload

from lotlink.config import Settings
from lotlink.db.engine import make_session_factory
from lotlink.errors import IdempotencyKeyReusedError, InvalidIdempotencyKeyError
from lotlink.models import Checkpoint, IdempotencyKey
from lotlink.models.types import utc_now
from lotlink.schemas.checkpoints import CheckpointCreate
from lotlink.services.chain_access import ChainAccess
from lotlink.services.checkpoints import (
    Accepted,
    EventDraft,
    Signer,
    StoredCheckpoint,
    in_write_transaction,
    lock_lots,
    prepare_events,
    write_events,
)
from lotlink.services.periodic import PeriodicTask

log = logging.getLogger("lotlink.idempotency")

MAX_KEY_LENGTH = 255
#: How often the periodic rounds delete expired keys (expired keys are ignored meanwhile).
PURGE_SECONDS = 900.0


@dataclass(frozen=True, slots=True)
class KeyedRequest:
    """A request that came with an ``Idempotency-Key``: whose, the key, and its fingerprint."""

    actor_address: str  # lowercase, as stored
    key: str
    fingerprint: str  # 0x-hex SHA-256


def parse_idempotency_key(value: str) -> str:
    """The key an ``Idempotency-Key`` header carries: the draft's structured-field string
    (``"…"``, RFC 8941), or the bare value most APIs take; 1 to 255 printable ASCII
    characters either way."""
    key = value
    if value.startswith('"'):
        item = http_sfv.Item()
        try:
            item.parse(value.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise InvalidIdempotencyKeyError(
                reason="a quoted key must be a structured-field string (RFC 8941)"
            ) from None
        key = str(item.value)
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidIdempotencyKeyError(
            reason=f"must be 1 to {MAX_KEY_LENGTH} characters, not {len(key)}"
        )
    if not all(" " <= c <= "~" for c in key):
        raise InvalidIdempotencyKeyError(reason="must be printable ASCII characters only")
    return key


def _json_value(value: object) -> str:
    if isinstance(value, Decimal):
        # 1, 1.0 and 1.000 are one quantity: the fingerprint must not tell them apart.
        return format(value.normalize(), "f")
    raise TypeError(f"{type(value).__name__} is not JSON")


def request_fingerprint(lot_key: str, form: CheckpointCreate) -> str:
    """SHA-256 over the route's lot and the form as validated, as canonical JSON (sorted keys,
    no spaces; defaults filled in, so leaving a field out and sending its default agree)."""
    canonical = json.dumps(
        {"lot": lot_key, "form": form.model_dump(mode="python")},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_json_value,
    )
    return "0x" + hashlib.sha256(canonical.encode()).hexdigest()


def accept_keyed(
    session: Session,
    chain: ChainAccess,
    signer: Signer,
    draft: EventDraft,
    request: KeyedRequest,
    *,
    settings: Settings,
) -> Accepted:
    """Accepts the event as `accept_event` does, unless the actor's key was used before: the
    same request is answered with the checkpoint it produced (created=False), another refused.
    The key is stored in the transaction that stores (or finds) the event."""
    prepared = prepare_events(chain, signer, [draft])

    def write() -> Accepted:
        # The lots' lock first, so that one lot's requests, keyed or not, read the key in turn
        # (`write_events` locks them again: a no-op for rows this transaction holds).
        lock_lots(session, draft.lots)
        now = utc_now()
        remembered = _remembered(session, request, now=now, settings=settings)
        if remembered is not None:
            return Accepted(remembered, created=False)
        accepted = write_events(session, chain, prepared)[0]
        session.execute(
            insert(IdempotencyKey).values(
                actor_address=request.actor_address,
                key=request.key,
                fingerprint=request.fingerprint,
                checkpoint_digest=accepted.checkpoint.digest,
                created_at=now,
            )
        )
        return accepted

    return in_write_transaction(session, write, conflict=prepared.conflict)


def _remembered(
    session: Session, request: KeyedRequest, *, now: datetime, settings: Settings
) -> StoredCheckpoint | None:
    """The checkpoint the key produced, if it is known and not expired; an expired key is
    deleted here, so that it can be stored again."""
    row = session.get(IdempotencyKey, (request.actor_address, request.key))
    if row is None:
        return None
    if row.created_at < now - timedelta(hours=settings.idempotency_key_hours):
        session.delete(row)
        session.flush()
        return None
    if row.fingerprint != request.fingerprint:
        raise IdempotencyKeyReusedError(key=request.key, hours=settings.idempotency_key_hours)
    checkpoint = session.get(
        Checkpoint, row.checkpoint_digest, options=[selectinload(Checkpoint.lots)]
    )
    assert checkpoint is not None  # the key is written with its event, and deleted with it
    return StoredCheckpoint.of(checkpoint)


def purge_expired_keys(session: Session, settings: Settings, *, now: datetime) -> int:
    """Deletes the keys older than the retention; how many."""
    cutoff = now - timedelta(hours=settings.idempotency_key_hours)
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    session.commit()
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


def start_key_purge(settings: Settings, engine: Engine) -> PeriodicTask:
    """The service's round that deletes expired idempotency keys, in a background thread."""
    sessions = make_session_factory(engine)

    def work() -> None:
        with sessions() as session:
            purged = purge_expired_keys(session, settings, now=utc_now())
        if purged:
            log.info("deleted %d expired idempotency keys", purged)

    return PeriodicTask("idempotency-keys", work, interval=PURGE_SECONDS, first_wait=True).start()
