"""The batcher: drains the outbox into Merkle batches, closed at N events or T ms after the first.

A batch is closed in one database transaction: its root, manifest and members are stored and
its outbox entries marked ``batched`` together, so an event is in at most one batch and a batch
is never half-built. Only then does the sender see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from lotlink.anchoring.lock import write_transaction
from lotlink.anchoring.manifest import ManifestEvent, ManifestLot, ManifestStore, build_manifest
from lotlink.models import (
    Actor,
    Batch,
    BatchStatus,
    Checkpoint,
    CheckpointStatus,
    Custody,
    ManifestStatus,
    OutboxEntry,
    OutboxState,
)
from lotlink.models.types import utc_now

# Stays under SQLite's bound-parameter limit on old builds.
_IN_CHUNK = 900


@dataclass(frozen=True, slots=True)
class BatchPolicy:
    """When a batch closes: at `size` events, or `interval` after its first event."""

    size: int
    interval: timedelta


@dataclass(frozen=True, slots=True)
class Destination:
    """Where batches go: the chain and contract their manifests name, and how they are served."""

    chain_id: int
    contract_address: str
    anchorer_address: str
    public_base_url: str

    def manifest_uri(self, root: str) -> str:
        return f"{self.public_base_url.rstrip('/')}/api/v1/batches/{root}/manifest"


class Batcher:
    """Closes batches from the outbox; one call closes at most one batch."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        policy: BatchPolicy,
        destination: Destination,
        manifests: ManifestStore,
        self_custody_only: bool = False,
    ) -> None:
        self.sessions = sessions
        # Direct mode records custodial signers' events one by one; only the rest is batched.
        self.self_custody_only = self_custody_only
        self.policy = policy
        self.destination = destination
        self.manifests = manifests

    def seconds_until_due(self, *, now: datetime | None = None) -> float | None:
        """How long until the oldest queued event's batch must close; None if nothing waits."""
        with self.sessions() as session:
            oldest = session.scalar(
                select(OutboxEntry.enqueued_at)
                .where(OutboxEntry.state == OutboxState.QUEUED)
                .order_by(OutboxEntry.id)
                .limit(1)
            )
        if oldest is None:
            return None
        due = oldest + self.policy.interval
        return max(0.0, (due - (now or utc_now())).total_seconds())

    def close_batch(self, *, now: datetime | None = None, force: bool = False) -> str | None:
        """Close one batch if one is due (full, or its first event waited long enough), or if
        `force` and anything is queued. Returns its root, or None when nothing was closed."""
        now = now or utc_now()
        with write_transaction(self.sessions) as session:
            query = (
                select(OutboxEntry.id, OutboxEntry.enqueued_at, Checkpoint)
                .join(Checkpoint, Checkpoint.digest == OutboxEntry.event_digest)
                .where(
                    OutboxEntry.state == OutboxState.QUEUED,
                    Checkpoint.status == CheckpointStatus.PENDING,
                )
                .order_by(OutboxEntry.id)
                .limit(self.policy.size)
                .options(selectinload(Checkpoint.lots))
            )
            if self.self_custody_only:
                query = query.join(Actor, Actor.address == Checkpoint.signer_address).where(
                    Actor.custody != Custody.CUSTODIAL
                )
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                # A second anchorer skips rows the first is batching instead of waiting on them.
                query = query.with_for_update(of=OutboxEntry, skip_locked=True)
            rows = session.execute(query).all()
            if not rows:
                return None
            full = len(rows) >= self.policy.size
            due = rows[0].enqueued_at + self.policy.interval <= now
            if not (full or due or force):
                return None
            events = [_manifest_event(row.Checkpoint) for row in rows]
            manifest = build_manifest(
                events,
                chain_id=self.destination.chain_id,
                contract_address=self.destination.contract_address,
            )
            # Written first: an orphan file (if the transaction fails) is harmless, being named
            # by its hash; a batch row whose file is missing would not be.
            self.manifests.write(manifest)
            batch = session.get(Batch, manifest.root)
            if batch is None:
                session.add(
                    Batch(
                        root=manifest.root,
                        manifest_hash=manifest.manifest_hash,
                        manifest_uri=self.destination.manifest_uri(manifest.root),
                        manifest=manifest.text,
                        manifest_status=ManifestStatus.VERIFIED,
                        event_count=len(events),
                        status=BatchStatus.BUILT,
                        anchorer_address=self.destination.anchorer_address,
                        attempts=0,
                    )
                )
                session.flush()
            else:
                # The same events again after a failed batch: the same root, so the same row.
                batch.status = BatchStatus.BUILT
                batch.last_error = None
            ids = [row.id for row in rows]
            moved = 0
            for start in range(0, len(ids), _IN_CHUNK):
                chunk = ids[start : start + _IN_CHUNK]
                result = session.execute(
                    update(OutboxEntry)
                    .where(OutboxEntry.id.in_(chunk), OutboxEntry.state == OutboxState.QUEUED)
                    .values(state=OutboxState.BATCHED, batch_root=manifest.root)
                    .execution_options(synchronize_session=False)
                )
                moved += cast(CursorResult[Any], result).rowcount
            if moved != len(ids):
                # Another anchorer batched some of these meanwhile; leave them to it.
                session.rollback()
                return None
            return manifest.root


def _manifest_event(checkpoint: Checkpoint) -> ManifestEvent:
    return ManifestEvent(
        digest=checkpoint.digest,
        event_id=checkpoint.event_id,
        lot_key=checkpoint.primary_lot_key,
        kind=checkpoint.kind,
        signer=checkpoint.signer_address,
        signature=checkpoint.signature,
        epcis_json=checkpoint.epcis_json,
        record_time=checkpoint.record_time.astimezone(UTC).isoformat(timespec="microseconds"),
        lots=tuple(
            ManifestLot(
                lot_key=link.lot_key,
                previous=link.prev_digest,
                quantity_milli=link.quantity_milli,
                unit=link.unit,
            )
            for link in checkpoint.lots
        ),
    )


def batch_events(session: Session, root: str) -> list[ManifestEvent]:
    """The events of batch `root` in manifest order (outbox order), rebuilt from the database."""
    checkpoints = session.scalars(
        select(Checkpoint)
        .join(OutboxEntry, OutboxEntry.event_digest == Checkpoint.digest)
        .where(OutboxEntry.batch_root == root)
        .order_by(OutboxEntry.id)
        .options(selectinload(Checkpoint.lots))
    ).all()
    return [_manifest_event(checkpoint) for checkpoint in checkpoints]
