"""What "anchored exactly once" means, checked against the database and the chain."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker
from web3 import Web3

from lotlink.anchoring.manifest import parse_manifest
from lotlink.anchoring.receipts import receipt_document
from lotlink.anchoring.verify import verify_receipt
from lotlink.chain.contract import LotlinkContract
from lotlink.models import AnchorReceipt, Batch, Checkpoint, CheckpointStatus


def batch_anchored_logs(lotlink: LotlinkContract, from_block: int) -> list[dict[str, Any]]:
    """Every BatchAnchored log of the contract since `from_block`."""
    logs = lotlink.contract.events.BatchAnchored().get_logs(from_block=from_block)
    return [
        {
            "root": "0x" + bytes(entry["args"]["root"]).hex(),
            "manifestHash": "0x" + bytes(entry["args"]["manifestHash"]).hex(),
            "count": int(entry["args"]["count"]),
            "tx": "0x" + bytes(entry["transactionHash"]).hex(),
        }
        for entry in logs
    ]


def assert_anchored_exactly_once(
    sessions: sessionmaker[Session],
    lotlink: LotlinkContract,
    digests: list[str],
    *,
    from_block: int,
    verify: int | None = None,
) -> None:
    """Every digest is anchored once: one receipt, one batch, its root anchored by exactly one
    BatchAnchored log whose manifest lists it; the first `verify` receipts (all by default)
    verify against the chain."""
    logs = batch_anchored_logs(lotlink, from_block)
    roots = Counter(log["root"] for log in logs)
    assert all(n == 1 for n in roots.values()), roots
    with sessions() as session:
        checkpoints = session.scalars(
            select(Checkpoint)
            .where(Checkpoint.digest.in_(digests))
            .options(selectinload(Checkpoint.receipt).selectinload(AnchorReceipt.batch))
        ).all()
        assert len(checkpoints) == len(digests)
        assert all(c.status == CheckpointStatus.ANCHORED for c in checkpoints)
        in_manifests: Counter[str] = Counter()
        for log in logs:
            batch = session.get_one(Batch, log["root"])
            assert batch.manifest_hash == log["manifestHash"]
            manifest = parse_manifest(batch.manifest.encode(), expected_hash=log["manifestHash"])
            assert len(manifest.events) == log["count"]
            in_manifests.update(event.digest for event in manifest.events)
        assert all(in_manifests[d] == 1 for d in digests), "an event is in no batch, or in two"
        assert sum(log["count"] for log in logs) == len(in_manifests)
        tx_of_root = {log["root"]: log["tx"] for log in logs}
        documents = []
        for checkpoint in checkpoints:
            receipt = checkpoint.receipt
            assert receipt is not None
            assert tx_of_root[receipt.root] == receipt.tx_hash
            documents.append(
                receipt_document(
                    checkpoint, chain_id=lotlink.chain_id, contract_address=lotlink.address
                )
            )
    w3: Web3 = lotlink.w3
    for document in documents[: len(documents) if verify is None else verify]:
        assert verify_receipt(document, w3) == [], document["digest"]
