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
from sqlalchemy import insert, update
from sqlalchemy.orm import Session, sessionmaker

from lotlink.anchoring.lock import write_transaction
from lotlink.anchoring.manifest import LEAF_ENCODING, parse_manifest
from lotlink.anchoring.sender import AnchorLog
from lotlink.models import (
    AnchorReceipt,
    Batch,
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

_IN_CHUNK = 900


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
        "root": anchor.root,
        "batch_root": anchor.root,
        "tx_hash": anchor.tx_hash,
        "block_number": anchor.block_number,
        "block_hash": anchor.block_hash,
        "log_index": anchor.log_index,
        "created_at": created_at,
    }


def store_receipts(sessions: sessionmaker[Session], anchor: AnchorLog) -> int:
    """Stores every event's receipt for the batch `anchor` confirms, marks its events anchored,
    all in one transaction. Idempotent: a batch already anchored is left as it is (returns 0)."""
    with write_transaction(sessions) as session:
        batch = session.get_one(Batch, anchor.root)
        if batch.status == BatchStatus.ANCHORED:
            return 0
        if batch.manifest is None:
            raise ValueError(f"batch {batch.root} has no manifest; it was not built here")
        manifest = parse_manifest(batch.manifest.encode("utf-8"), expected_hash=batch.manifest_hash)
        if anchor.manifest_hash != batch.manifest_hash:
            # Another anchorer anchored the same events (same root) with its own manifest; the
            # proofs hold all the same, and ours stays served under the root.
            log.warning("batch %s was anchored with manifest %s", anchor.root, anchor.manifest_hash)
        dump = manifest.tree.dump()
        leaves = [dump["tree"][value["treeIndex"]] for value in dump["values"]]
        now = utc_now()
        rows = [
            batch_receipt_row(
                event.digest, leaves[index], manifest.tree.get_proof(index), anchor, created_at=now
            )
            for index, event in enumerate(manifest.events)
        ]
        session.execute(insert(AnchorReceipt), rows)
        digests = [event.digest for event in manifest.events]
        for start in range(0, len(digests), _IN_CHUNK):
            session.execute(
                update(Checkpoint)
                .where(Checkpoint.digest.in_(digests[start : start + _IN_CHUNK]))
                .values(status=CheckpointStatus.ANCHORED)
                .execution_options(synchronize_session=False)
            )
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.batch_root == anchor.root)
            .values(state=OutboxState.ANCHORED)
            .execution_options(synchronize_session=False)
        )
        batch.status = BatchStatus.ANCHORED
        batch.tx_hash = anchor.tx_hash
        batch.block_number = anchor.block_number
        batch.log_index = anchor.log_index
        batch.anchored_at = utc_now()
        batch.last_error = None
        return len(rows)


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
