"""Handlers for checkpoint anchors: direct records (CheckpointRecorded) and Merkle batches
(BatchAnchored, with their manifests).

A receipt is stored only for an event this index holds, and only when the chain anchored it as
that event's signer and lot: the leaf commits to (digest, lot key, signer), so a digest anchored
under another signer is not a proof of our event.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import update

from lotlink.chain.merkle import leaf_hash
from lotlink.indexer.decode import ChainLog
from lotlink.indexer.manifests import LEAF_ENCODING, ManifestResult
from lotlink.indexer.registry import ApplyContext, block_time, handles
from lotlink.indexer.sql import chunks, table_of, upsert
from lotlink.models import (
    AnchorReceipt,
    Batch,
    BatchStatus,
    Checkpoint,
    CheckpointStatus,
    ManifestStatus,
)

_RECEIPT_COLUMNS = (
    "leaf", "proof", "root", "batch_root", "tx_hash", "block_number", "block_hash", "log_index",
)  # fmt: skip


def _known(ctx: ApplyContext, digests: Iterable[str]) -> dict[str, tuple[str, str]]:
    """(signer, primary lot) of each digest this index holds an event for.

    Asked at the driver: digests come from the decoder already in canonical lowercase form,
    and a busy range asks about tens of thousands of them."""
    mark = "?" if ctx.conn.dialect.paramstyle == "qmark" else "%s"
    found: dict[str, tuple[str, str]] = {}
    for chunk in chunks(list(set(digests))):
        rows = ctx.conn.exec_driver_sql(
            "SELECT digest, signer_address, primary_lot_key FROM checkpoint "
            f"WHERE digest IN ({', '.join([mark] * len(chunk))})",
            tuple(chunk),
        )
        for digest, signer, lot in rows:
            found[digest] = (signer, lot)
    return found


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
    """The batch row (created, or completed when the anchorer wrote it first) and a receipt
    for each event of a verified manifest that this index holds."""
    rows: dict[str, dict[str, Any]] = {}
    for log in logs:
        a = log.args
        result = ctx.manifests.get(a["root"]) or ManifestResult(
            ManifestStatus.UNAVAILABLE, reason="not fetched"
        )
        if result.status is not ManifestStatus.VERIFIED:
            ctx.report.manifest_problems.append(
                f"batch {a['root']} (block {log.block_number}): manifest "
                f"{result.status.value}: {result.reason}"
            )
        rows[a["root"]] = {
            "root": a["root"],
            "manifest_hash": a["manifestHash"],
            "manifest_uri": a["manifestUri"] or None,
            "manifest_status": result.status.value,
            "event_count": a["count"],
            "status": BatchStatus.ANCHORED.value,
            "anchorer_address": a["anchorer"],
            "tx_hash": log.tx_hash,
            "attempts": 0,
            "last_error": None
            if result.status is ManifestStatus.VERIFIED
            else f"manifest {result.status.value}: {result.reason}"[:1000],
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
            "manifest_status", "status", "anchorer_address", "tx_hash", "block_number",
            "log_index", "anchored_at",
        ],
    )  # fmt: skip
    by_root = {log.args["root"]: log for log in logs}
    empty = ManifestResult(ManifestStatus.UNAVAILABLE)
    leaves = [(root, leaf) for root in by_root for leaf in ctx.manifests.get(root, empty).leaves]
    known = _known(ctx, (leaf.digest for _, leaf in leaves))
    receipts: dict[str, dict[str, Any]] = {}
    for root, leaf in leaves:
        if known.get(leaf.digest) != (leaf.signer, leaf.lot_key):
            ctx.report.unknown_events += 1
            continue
        log = by_root[root]
        receipts[leaf.digest] = {
            "event_digest": leaf.digest,
            "leaf": leaf.leaf,
            "proof": leaf.proof,
            "root": root,
            "batch_root": root,
            "tx_hash": log.tx_hash,
            "block_number": log.block_number,
            "block_hash": log.block_hash,
            "log_index": log.log_index,
            "created_at": block_time(log),
        }
    _store_receipts(ctx, receipts)
