"""Receipts: what each event gets once its root is on chain, stored and served.

A receipt is self-contained: the event, its digest, signer and signature, its leaf and Merkle
path, the root, and where the root landed (transaction, block, log, chain, contract, manifest
hash). `lotlink.anchoring.verify.verify_receipt` checks one with nothing but an RPC endpoint.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any, Protocol

from eth_utils import to_checksum_address
from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session, sessionmaker

from lotlink.anchoring.lock import read_transaction, write_transaction
from lotlink.anchoring.manifest import (
    LEAF_ENCODING,
    BuiltManifests,
    Manifest,
    built_manifests,
    parse_manifest,
)
from lotlink.anchoring.sender import AnchorLog
from lotlink.db.bulk import insert_sharing, table_of
from lotlink.models import (
    AnchorReceipt,
    Batch,
    BatchManifest,
    BatchStatus,
    Checkpoint,
    CheckpointStatus,
    OutboxEntry,
    OutboxState,
)
from lotlink.models.types import utc_now

log = logging.getLogger("lotlink.anchoring")

RECEIPT_FORMAT = "lotlink-receipt"
RECEIPT_VERSION = 1

_BATCH = table_of(Batch)
_MANIFEST = table_of(BatchManifest)
_RECEIPT = table_of(AnchorReceipt)
_CHECKPOINT = table_of(Checkpoint)
_OUTBOX = table_of(OutboxEntry)


class BatchLanding(Protocol):
    """Where a batch root landed on chain (its BatchAnchored log), as receipts name it."""

    @property
    def root(self) -> str: ...
    @property
    def tx_hash(self) -> str: ...
    @property
    def block_number(self) -> int: ...
    @property
    def block_hash(self) -> str | None: ...
    @property
    def log_index(self) -> int: ...


def batch_receipt_row(
    digest: str, leaf: str, proof: list[str], anchor: BatchLanding, *, created_at: datetime
) -> dict[str, Any]:
    """The `anchor_receipt` row of one batched event (the anchorer's and the indexer's)."""
    return {
        "event_digest": digest,
        "leaf": leaf,
        "proof": proof,
        **batch_landing_columns(anchor, created_at=created_at),
    }


def batch_landing_columns(anchor: BatchLanding, *, created_at: datetime) -> dict[str, Any]:
    """The columns every `anchor_receipt` row of a batch shares: where its root landed."""
    return {
        "root": anchor.root,
        "batch_root": anchor.root,
        "tx_hash": anchor.tx_hash,
        "block_number": anchor.block_number,
        "block_hash": anchor.block_hash,
        "log_index": anchor.log_index,
        "created_at": created_at,
    }


def store_receipts(
    sessions: sessionmaker[Session], anchor: AnchorLog, *, built: BuiltManifests = built_manifests
) -> int:
    """Stores every event's receipt for the batch `anchor` confirms, marks its events anchored,
    all in one write transaction. Idempotent: a batch already anchored is left as it is (returns 0).

    The proofs come from the manifest this process built for the batch (`built`) while it has
    it, else from parsing the stored manifest, as after a restart: both give the same tree."""
    # Read, and the proofs worked out, before the write transaction: on SQLite it is the
    # database's one writer, which the API's captures wait for.
    with read_transaction(sessions) as session:
        conn = session.connection()
        batch = conn.execute(
            select(_BATCH.c.status, _BATCH.c.manifest_hash).where(_BATCH.c.root == anchor.root)
        ).one()
        if batch.status == BatchStatus.ANCHORED:
            return 0
        manifest = built.get(batch.manifest_hash) or _stored_manifest(
            conn, anchor.root, batch.manifest_hash
        )
    if anchor.manifest_hash != batch.manifest_hash:
        # Another anchorer anchored the same events (same root) with its own manifest; the
        # proofs hold all the same, and ours stays served under the root.
        log.warning("batch %s was anchored with manifest %s", anchor.root, anchor.manifest_hash)
    leaves, proofs = manifest.tree.leaves(), manifest.tree.proofs()
    rows = [
        {"event_digest": event.digest, "leaf": leaves[index], "proof": proofs[index]}
        for index, event in enumerate(manifest.events)
    ]
    shared = batch_landing_columns(anchor, created_at=utc_now())
    with write_transaction(sessions) as session:
        conn = session.connection()
        status = conn.execute(select(_BATCH.c.status).where(_BATCH.c.root == anchor.root)).one()
        if status[0] == BatchStatus.ANCHORED:
            return 0  # stored meanwhile (by the indexer, or a second anchorer)
        insert_sharing(conn, _RECEIPT, rows, shared=shared)
        # The batch's events are its outbox entries (marked with its root when it closed): named
        # by that one value rather than by a thousand digests, each bound and checked in Python.
        members = select(_OUTBOX.c.event_digest).where(_OUTBOX.c.batch_root == anchor.root)
        conn.execute(
            update(_CHECKPOINT)
            .where(_CHECKPOINT.c.digest.in_(members.scalar_subquery()))
            .values(status=CheckpointStatus.ANCHORED)
        )
        conn.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.batch_root == anchor.root)
            .values(state=OutboxState.ANCHORED)
        )
        conn.execute(
            update(_BATCH)
            .where(_BATCH.c.root == anchor.root)
            .values(
                status=BatchStatus.ANCHORED,
                tx_hash=anchor.tx_hash,
                block_number=anchor.block_number,
                log_index=anchor.log_index,
                anchored_at=utc_now(),
                last_error=None,
            )
        )
        return len(rows)


def _stored_manifest(conn: Connection, root: str, manifest_hash: str) -> Manifest:
    """Batch `root`'s manifest as stored, parsed and checked against its hash."""
    text = conn.execute(select(_MANIFEST.c.content).where(_MANIFEST.c.root == root)).scalar()
    if text is None:
        raise ValueError(f"batch {root} has no manifest; it was not built here")
    return parse_manifest(text.encode("utf-8"), expected_hash=manifest_hash)


def receipt_document(
    checkpoint: Checkpoint, *, chain_id: int, contract_address: str
) -> dict[str, Any]:
    """The receipt of an anchored checkpoint, or its status while it is not anchored yet."""
    body: dict[str, Any] = {
        "format": RECEIPT_FORMAT,
        "version": RECEIPT_VERSION,
        "status": checkpoint.status.value,
        "digest": checkpoint.digest,
        "eventID": checkpoint.event_id,
        "event": json.loads(checkpoint.epcis_json),
        "lotKey": checkpoint.primary_lot_key,
        "kind": checkpoint.kind.value,
        "kindCode": checkpoint.kind.code,
        "signer": to_checksum_address(checkpoint.signer_address),
        "signature": checkpoint.signature,
        "chainId": chain_id,
        "contract": to_checksum_address(contract_address),
    }
    receipt = checkpoint.receipt
    if checkpoint.status != CheckpointStatus.ANCHORED or receipt is None:
        return body
    batch = receipt.batch
    body.update(
        {
            "mode": "batch" if batch is not None else "direct",
            "leafEncoding": list(LEAF_ENCODING),
            "leaf": receipt.leaf,
            "proof": list(receipt.proof),
            "root": receipt.root,
            "transactionHash": receipt.tx_hash,
            "blockNumber": receipt.block_number,
            "blockHash": receipt.block_hash,
            "logIndex": receipt.log_index,
            "manifestHash": batch.manifest_hash if batch is not None else None,
            "manifestUri": batch.manifest_uri if batch is not None else None,
        }
    )
    return body
