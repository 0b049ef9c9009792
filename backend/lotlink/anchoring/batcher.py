"""The batcher: drains the outbox into Merkle batches, closed at N events or T ms after the first.

A batch is closed in one database transaction: its root, manifest and members are stored and
its outbox entries marked ``batched`` together, so an event is in at most one batch and a batch
is never half-built. Only then does the sender see it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Row, Select, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from lotlink.anchoring.lock import read_transaction, write_transaction
from lotlink.anchoring.manifest import (
    BuiltManifests,
    ManifestEvent,
    ManifestLot,
    ManifestStore,
    build_manifest,
    built_manifests,
)
from lotlink.chain.addresses import checksum_address
from lotlink.db.bulk import chunks, table_of
from lotlink.models import (
    Actor,
    Batch,
    BatchManifest,
    BatchStatus,
    Checkpoint,
    CheckpointLot,
    CheckpointStatus,
    Custody,
    ManifestStatus,
    OutboxEntry,
    OutboxState,
)
from lotlink.models.types import utc_now

# Core tables, not ORM entities: a batch reads a thousand events, and loading them as objects
# (with their lots) cost more than building the manifest.
_OUTBOX = table_of(OutboxEntry)
_CHECKPOINT = table_of(Checkpoint)
_LINK = table_of(CheckpointLot)
_BATCH = table_of(Batch)
_MANIFEST = table_of(BatchManifest)
_ACTOR = table_of(Actor)
#: What a manifest entry needs of a checkpoint row.
_EVENT_COLUMNS = (
    _CHECKPOINT.c.digest, _CHECKPOINT.c.event_id, _CHECKPOINT.c.primary_lot_key,
    _CHECKPOINT.c.kind, _CHECKPOINT.c.signer_address, _CHECKPOINT.c.signature,
    _CHECKPOINT.c.epcis_json, _CHECKPOINT.c.record_time,
)  # fmt: skip


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
        built: BuiltManifests = built_manifests,
    ) -> None:
        self.sessions = sessions
        # Direct mode records custodial signers' events one by one; only the rest is batched.
        self.self_custody_only = self_custody_only
        self.policy = policy
        self.destination = destination
        self.manifests = manifests
        self.built = built

    def seconds_until_due(self, *, now: datetime | None = None) -> float | None:
        """How long until the oldest queued event's batch must close; None if nothing waits."""
        with read_transaction(self.sessions) as session:
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
        `force` and anything is queued. Returns its root, or None when nothing was closed.

        The events are read and the manifest and its tree built in a read-only transaction;
        only the batch row and the outbox's marks are written in the write transaction (on
        SQLite the database's one writer, which the API's captures wait for). The marks move
        only entries still queued; if another anchorer took any meanwhile, nothing is kept."""
        now = now or utc_now()
        with read_transaction(self.sessions) as session:
            conn = session.connection()
            query = (
                select(_OUTBOX.c.id, *_EVENT_COLUMNS)
                .join_from(_OUTBOX, _CHECKPOINT, _CHECKPOINT.c.digest == _OUTBOX.c.event_digest)
                .where(
                    _OUTBOX.c.state == OutboxState.QUEUED,
                    _CHECKPOINT.c.status == CheckpointStatus.PENDING,
                )
                .order_by(_OUTBOX.c.id)
                .limit(self.policy.size)
            )
            if self.self_custody_only:
                query = query.join(_ACTOR, _ACTOR.c.address == _CHECKPOINT.c.signer_address).where(
                    _ACTOR.c.custody != Custody.CUSTODIAL
                )
            rows = conn.execute(query).all()
            if not rows:
                return None
            full = len(rows) >= self.policy.size
            # The oldest entry's time alone (not one per row): it says whether the batch is due.
            first = conn.execute(select(_OUTBOX.c.enqueued_at).where(_OUTBOX.c.id == rows[0].id))
            due = first.scalar_one() + self.policy.interval <= now
            if not (full or due or force):
                return None
            # The lots of every entry in the rows' span of ids, rather than of a thousand digests
            # each bound and checked in Python: ids never change, so the span holds every row
            # whatever was committed since (PostgreSQL reads each statement afresh); the few
            # entries it holds besides (skipped by the query's conditions) are left unread.
            span = _OUTBOX.c.id.between(rows[0].id, rows[-1].id)
            events = _manifest_events(conn, rows, select(_OUTBOX.c.event_digest).where(span))
        manifest = build_manifest(
            events,
            chain_id=self.destination.chain_id,
            contract_address=self.destination.contract_address,
        )
        # Written first: an orphan file (if the transaction fails) is harmless, being named by
        # its hash; a batch row whose file is missing would not be.
        self.manifests.write(manifest)
        with write_transaction(self.sessions) as session:
            conn = session.connection()
            if conn.execute(select(_BATCH.c.root).where(_BATCH.c.root == manifest.root)).first():
                # The same events again after a failed batch: the same root, so the same row.
                conn.execute(
                    update(_BATCH)
                    .where(_BATCH.c.root == manifest.root)
                    .values(status=BatchStatus.BUILT, last_error=None)
                )
            else:
                conn.execute(
                    insert(_BATCH).values(
                        root=manifest.root,
                        manifest_hash=manifest.manifest_hash,
                        manifest_uri=self.destination.manifest_uri(manifest.root),
                        manifest_status=ManifestStatus.VERIFIED,
                        event_count=len(manifest.events),
                        status=BatchStatus.BUILT,
                        anchorer_address=self.destination.anchorer_address,
                        attempts=0,
                    )
                )
                conn.execute(insert(_MANIFEST).values(root=manifest.root, content=manifest.text))
            moved = 0
            for chunk in chunks([row.id for row in rows]):
                result = conn.execute(
                    update(_OUTBOX)
                    .where(_OUTBOX.c.id.in_(chunk), _OUTBOX.c.state == OutboxState.QUEUED)
                    .values(state=OutboxState.BATCHED, batch_root=manifest.root)
                )
                moved += cast(CursorResult[Any], result).rowcount
            if moved != len(rows):
                # Another anchorer batched some of these meanwhile; leave them to it.
                session.rollback()
                return None
        # Committed: its receipts and an indexer in this process take its tree
        # from here rather than parsing the stored bytes again.
        self.built.add(manifest)
        return manifest.root


def _manifest_events(
    conn: Connection, rows: Sequence[Row[*tuple[Any, ...]]], members: Select[tuple[str]]
) -> list[ManifestEvent]:
    """The manifest entries of checkpoint `rows` (with `_EVENT_COLUMNS`), in their order,
    already as a manifest writes them (`ManifestEvent.as_written`: built once, not twice).
    `members` selects digests among which are the rows', for their lots."""
    lots: defaultdict[str, list[ManifestLot]] = defaultdict(list)
    links = conn.execute(
        select(
            _LINK.c.checkpoint_digest, _LINK.c.lot_key, _LINK.c.prev_digest,
            _LINK.c.quantity_milli, _LINK.c.unit,
        ).where(_LINK.c.checkpoint_digest.in_(members))
    ).all()  # fmt: skip
    for digest, lot_key, previous, quantity_milli, unit in links:
        lots[digest].append(ManifestLot(lot_key, previous, quantity_milli, unit))
    for links_of_event in lots.values():
        links_of_event.sort(key=lambda lot: lot.lot_key)
    return [
        ManifestEvent(
            digest=row.digest,
            event_id=row.event_id,
            lot_key=row.primary_lot_key,
            kind=row.kind,
            signer=checksum_address(row.signer_address),
            signature=row.signature,
            epcis_json=row.epcis_json,
            record_time=row.record_time.astimezone(UTC).isoformat(timespec="microseconds"),
            lots=tuple(lots[row.digest]),
        )
        for row in rows
    ]


def batch_events(session: Session, root: str) -> list[ManifestEvent]:
    """The events of batch `root` in manifest order (outbox order), rebuilt from the database."""
    conn = session.connection()
    query: Select[Any] = (
        select(*_EVENT_COLUMNS)
        .join_from(_OUTBOX, _CHECKPOINT, _CHECKPOINT.c.digest == _OUTBOX.c.event_digest)
        .where(_OUTBOX.c.batch_root == root)
        .order_by(_OUTBOX.c.id)
    )
    members = select(_OUTBOX.c.event_digest).where(_OUTBOX.c.batch_root == root)
    return _manifest_events(conn, conn.execute(query).all(), members)
