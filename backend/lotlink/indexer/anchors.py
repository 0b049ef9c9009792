"""Handlers for checkpoint anchors: direct records (CheckpointRecorded) and Merkle batches
(BatchAnchored, with their manifests).

A receipt is stored only for an event this index holds, and only when the chain anchored it as
that event's signer and lot: the leaf commits to (digest, lot key, signer), so a digest anchored
under another signer is not a proof of our event. A batch's events that this index does not
hold are rebuilt from its verified manifest (`lotlink.indexer.rebuild`); a direct record names
only a digest, so an event this index lacks stays unknown. A receipt stored already exactly as
the chain's batch gives it (the anchorer of this database was first) is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from lotlink.anchoring.receipts import batch_landing_columns, batch_receipt_row
from lotlink.chain.decode import ChainLog
from lotlink.chain.merkle import leaf_hash
from lotlink.indexer.manifests import (
    LEAF_ENCODING,
    BatchAnchor,
    ManifestEntry,
    ManifestResult,
    RetryPolicy,
    describe,
)
from lotlink.indexer.rebuild import Blocked, RebuiltEvent, insert_events
from lotlink.indexer.registry import ApplyContext, block_time, handles
from lotlink.indexer.sql import chunks, rows_where_in, table_of, upsert
from lotlink.models import (
    AnchorReceipt,
    Batch,
    BatchManifest,
    BatchStatus,
    Checkpoint,
    CheckpointStatus,
    ManifestStatus,
)
from lotlink.models.types import utc_now

_RECEIPT_COLUMNS = (
    "leaf", "proof", "root", "batch_root", "tx_hash", "block_number", "block_hash", "log_index",
)  # fmt: skip
#: The columns the upsert sets that every receipt of a batch shares (see `_stored_as_is`).
_SHARED = [column for column in _RECEIPT_COLUMNS if column not in ("leaf", "proof")]


def _known(ctx: ApplyContext, digests: Iterable[str]) -> dict[str, tuple[str, str]]:
    """(signer, primary lot) of each digest this index holds an event for."""
    rows = rows_where_in(
        ctx.conn, table_of(Checkpoint), "digest", digests, ("signer_address", "primary_lot_key")
    )
    return {digest: (signer, lot) for digest, signer, lot in rows}


def _store_receipts(ctx: ApplyContext, receipts: dict[str, dict[str, Any]]) -> None:
    if not receipts:
        return
    upsert(
        ctx.conn,
        table_of(AnchorReceipt),
        list(receipts.values()),
        keys=["event_digest"],
        update_columns=_RECEIPT_COLUMNS,
    )
    table = table_of(Checkpoint)
    for chunk in chunks(list(receipts)):
        ctx.conn.execute(
            update(table)
            .where(table.c.digest.in_(chunk))
            .values(status=CheckpointStatus.ANCHORED.value)
        )
    ctx.report.receipts += len(receipts)


@handles("CheckpointRecorded")
def apply_direct_anchors(ctx: ApplyContext, logs: list[ChainLog]) -> None:
    """A direct record is its own anchor: root = leaf, no proof, the log is the evidence."""
    known = _known(ctx, (log.args["eventHash"] for log in logs))
    receipts: dict[str, dict[str, Any]] = {}
    for log in logs:
        a = log.args
        digest = a["eventHash"]
        if known.get(digest) != (a["signer"], a["lotKey"]):
            ctx.report.unknown_events += 1
            continue
        leaf = "0x" + leaf_hash(LEAF_ENCODING, (digest, a["lotKey"], a["signer"])).hex()
        receipts[digest] = {
            "event_digest": digest,
            "leaf": leaf,
            "proof": [],
            "root": leaf,
            "batch_root": None,
            "tx_hash": log.tx_hash,
            "block_number": log.block_number,
            "block_hash": log.block_hash,
            "log_index": log.log_index,
            "created_at": block_time(log),
        }
    _store_receipts(ctx, receipts)


@handles("BatchAnchored")
def apply_batches(ctx: ApplyContext, logs: list[ChainLog]) -> None:
    """The batch row (created, or completed when the anchorer wrote it first), then its
    manifest's outcome: see `settle_batch`."""
    rows: dict[str, dict[str, Any]] = {}
    for log in logs:
        a = log.args
        rows[a["root"]] = {
            "root": a["root"],
            "manifest_hash": a["manifestHash"],
            "manifest_uri": a["manifestUri"] or None,
            "event_count": a["count"],
            "status": BatchStatus.ANCHORED.value,
            "anchorer_address": a["anchorer"],
            "tx_hash": log.tx_hash,
            "attempts": 0,
            "block_number": log.block_number,
            "log_index": log.log_index,
            "created_at": block_time(log),
            "anchored_at": block_time(log),
        }
    upsert(
        ctx.conn,
        table_of(Batch),
        list(rows.values()),
        keys=["root"],
        update_columns=[
            "status", "anchorer_address", "tx_hash", "block_number", "log_index", "anchored_at",
        ],
    )  # fmt: skip
    latest = {log.args["root"]: log for log in logs}
    for root, log in latest.items():
        anchor = BatchAnchor.of_log(log)
        result = ctx.manifests.get(root) or ManifestResult(
            ManifestStatus.PENDING, reason="not fetched yet"
        )
        settle_batch(ctx, anchor, result)


def settle_batch(ctx: ApplyContext, anchor: BatchAnchor, result: ManifestResult) -> ManifestStatus:
    """Index batch `anchor` by its manifest `result`, all or nothing, and mark the batch row.

    Verified: events this index lacks are rebuilt from the manifest, and every event gets its
    receipt. Otherwise (or when a rebuilt event cannot be stored yet) none of its events is
    indexed as anchored, the row says why, and retried statuses get their next attempt time."""
    if result.status is ManifestStatus.VERIFIED:
        entries = result.entries
        known = _known(ctx, (e.digest for e in entries))
        fresh = [e for e in entries if e.digest not in known]
        if gone := [e.digest for e in fresh if e.rebuilt is None]:
            blocked: Blocked | None = Blocked(f"event {gone[0]} left this index while checked")
        else:
            rebuilt = [e.rebuilt for e in fresh if e.rebuilt is not None]
            blocked = _insert_guarded(ctx, rebuilt, anchor)
        if blocked is not None:
            status = ManifestStatus.INVALID if blocked.final else ManifestStatus.PENDING
            result = ManifestResult(status, reason=blocked.reason, source=result.source)
        else:
            ctx.report.rebuilt += len(fresh)
            _store_batch_receipts(ctx, anchor, entries, known)
    _mark(ctx, anchor, result)
    return result.status


def _insert_guarded(
    ctx: ApplyContext, rebuilt: list[RebuiltEvent], anchor: BatchAnchor
) -> Blocked | None:
    """`insert_events` in a savepoint: a constraint its checks did not foresee (a writer of
    this database chaining an event onto the same lot at that moment) leaves the batch to be
    tried again instead of failing the whole range."""
    if not rebuilt:
        return None
    savepoint = ctx.conn.begin_nested()
    try:
        blocked = insert_events(ctx.conn, rebuilt, recorded=anchor.time)
    except IntegrityError as error:
        savepoint.rollback()
        reason = str(error.orig).splitlines()[0] if error.orig else type(error).__name__
        return Blocked(f"its events could not be stored yet ({reason})")
    savepoint.commit()
    return blocked


def _store_batch_receipts(
    ctx: ApplyContext,
    anchor: BatchAnchor,
    entries: list[ManifestEntry],
    known: dict[str, tuple[str, str]],
) -> None:
    wanted: list[ManifestEntry] = []
    for entry in entries:
        held = known.get(entry.digest)
        if held is not None and held != (entry.signer, entry.lot_key):
            ctx.report.unknown_events += 1  # the same event stored here under another signer
            continue
        wanted.append(entry)
    stored = _stored_as_is(ctx, anchor)
    _store_receipts(
        ctx,
        {
            entry.digest: batch_receipt_row(
                entry.digest, entry.leaf, entry.proof, anchor, created_at=anchor.time
            )
            for entry in wanted
            if stored.get(entry.digest) != (entry.leaf, entry.proof)
        },
    )


def _stored_as_is(ctx: ApplyContext, anchor: BatchAnchor) -> dict[str, tuple[str, list[str]]]:
    """(leaf, proof) by digest of the receipts stored already as batch `anchor` gives them in
    every column the upsert would set but those two, with their event anchored: the anchorer of
    this database got there first (the usual case in the service), and rewriting a thousand
    equal rows was most of the cost of indexing a batch. The columns a batch's receipts share
    are compared in the query, the two each has of its own by the caller. Compared as they are:
    the decoder and the tree spell hex as the database keeps it (lowercase), and a difference in
    spelling alone would only cost a rewrite."""
    receipt, checkpoint = table_of(AnchorReceipt), table_of(Checkpoint)
    shared = batch_landing_columns(anchor, created_at=anchor.time)
    stored = ctx.conn.execute(
        select(receipt.c.event_digest, receipt.c.leaf, receipt.c.proof)
        .join(checkpoint, checkpoint.c.digest == receipt.c.event_digest)
        .where(
            receipt.c.batch_root == anchor.root,
            *(receipt.c[column].is_not_distinct_from(shared[column]) for column in _SHARED),
            checkpoint.c.status == CheckpointStatus.ANCHORED.value,
        )
    ).all()  # at once: a result iterated row by row costs a driver call per row
    return {digest: (leaf, proof) for digest, leaf, proof in stored}


def _mark(ctx: ApplyContext, anchor: BatchAnchor, result: ManifestResult) -> None:
    batch = table_of(Batch)
    verified = result.status is ManifestStatus.VERIFIED
    values: dict[str, Any] = {"manifest_status": result.status.value}
    if verified:
        values.update(manifest_error=None, manifest_attempts=0, manifest_retry_at=None)
        manifest = table_of(BatchManifest)
        # Kept (and served) as anchored; never overwritten. Looked for first: the anchorer of
        # this database stored its own, and binding a megabyte only to skip it costs.
        if (
            result.content is not None
            and not ctx.conn.execute(
                select(manifest.c.root).where(manifest.c.root == anchor.root)
            ).first()
        ):
            ctx.conn.execute(
                insert(manifest).values(root=anchor.root, content=result.content.decode("utf-8"))
            )
    else:
        attempts = 1 + (
            ctx.conn.execute(
                select(batch.c.manifest_attempts).where(batch.c.root == anchor.root)
            ).scalar()
            or 0
        )
        policy = ctx.manifest_retry or RetryPolicy()
        retry_at = (
            utc_now() + timedelta(seconds=policy.delay(attempts)) if result.status.retried else None
        )
        values.update(
            manifest_error=(result.reason or result.status.value)[:1000],
            manifest_attempts=attempts,
            manifest_retry_at=retry_at,
        )
        ctx.report.manifest_problems.append(describe(result, anchor))
    ctx.conn.execute(update(batch).where(batch.c.root == anchor.root).values(**values))


def count_unresolved(conn: Connection) -> int:
    """Anchored batches whose manifests are not verified (their events are not indexed)."""
    batch = table_of(Batch)
    return int(
        conn.execute(
            select(func.count())
            .select_from(batch)
            .where(
                batch.c.block_number.is_not(None),
                batch.c.manifest_status != ManifestStatus.VERIFIED.value,
            )
        ).scalar_one()
    )
