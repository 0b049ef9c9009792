"""What "anchored exactly once" means, checked against the database and the chain: in a batch
(a BatchAnchored root whose manifest lists the event) or, in direct mode, by a record of its own
(a CheckpointRecorded log)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker
from web3 import Web3

from lotlink.anchoring.manifest import parse_manifest
from lotlink.anchoring.receipts import receipt_document
from lotlink.anchoring.verify import verify_receipt
from lotlink.chain.contract import LotlinkContract
from lotlink.models import AnchorReceipt, Batch, Checkpoint, CheckpointStatus


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex()


def batch_anchored_logs(lotlink: LotlinkContract, from_block: int) -> list[dict[str, Any]]:
    """Every BatchAnchored log of the contract since `from_block`."""
    logs = lotlink.contract.events.BatchAnchored().get_logs(from_block=from_block)
    return [
        {
            "root": _hex(entry["args"]["root"]),
            "manifestHash": _hex(entry["args"]["manifestHash"]),
            "count": int(entry["args"]["count"]),
            "tx": _hex(entry["transactionHash"]),
        }
        for entry in logs
    ]


def checkpoint_recorded_logs(lotlink: LotlinkContract, from_block: int) -> list[dict[str, Any]]:
    """Every CheckpointRecorded log (a direct record) of the contract since `from_block`."""
    logs = lotlink.contract.events.CheckpointRecorded().get_logs(from_block=from_block)
    return [
        {
            "digest": _hex(entry["args"]["eventHash"]),
            "tx": _hex(entry["transactionHash"]),
            "block": int(entry["blockNumber"]),
            "logIndex": int(entry["logIndex"]),
        }
        for entry in logs
    ]


def _anchored_checkpoints(session: Session, digests: list[str]) -> Sequence[Checkpoint]:
    """The checkpoints of `digests` with their receipts, each of them anchored."""
    checkpoints = session.scalars(
        select(Checkpoint)
        .where(Checkpoint.digest.in_(digests))
        .options(selectinload(Checkpoint.receipt).selectinload(AnchorReceipt.batch))
    ).all()
    assert len(checkpoints) == len(digests)
    assert all(c.status == CheckpointStatus.ANCHORED for c in checkpoints)
    assert all(c.receipt is not None for c in checkpoints)
    return checkpoints


def _batched(session: Session, logs: list[dict[str, Any]]) -> Counter[str]:
    """How many anchored manifests list each event; each log's batch and manifest checked."""
    in_manifests: Counter[str] = Counter()
    for log in logs:
        batch = session.get_one(Batch, log["root"])
        assert batch.manifest_hash == log["manifestHash"]
        manifest = parse_manifest(batch.manifest.encode(), expected_hash=log["manifestHash"])
        assert len(manifest.events) == log["count"]
        in_manifests.update(event.digest for event in manifest.events)
    return in_manifests


def _assert_receipts_verify(
    checkpoints: Sequence[Checkpoint], lotlink: LotlinkContract, verify: list[str] | None
) -> None:
    """The receipts of the `verify` digests (all by default) verify against the chain."""
    w3: Web3 = lotlink.w3
    for checkpoint in checkpoints:
        if verify is None or checkpoint.digest in verify:
            document = receipt_document(
                checkpoint, chain_id=lotlink.chain_id, contract_address=lotlink.address
            )
            assert verify_receipt(document, w3) == [], checkpoint.digest


def assert_anchored_exactly_once(
    sessions: sessionmaker[Session],
    lotlink: LotlinkContract,
    digests: list[str],
    *,
    from_block: int,
    verify: list[str] | None = None,
) -> None:
    """Every digest is anchored once: one receipt, one batch, its root anchored by exactly one
    BatchAnchored log whose manifest lists it; the receipts of the `verify` digests (all by
    default) verify against the chain."""
    logs = batch_anchored_logs(lotlink, from_block)
    roots = Counter(log["root"] for log in logs)
    assert all(n == 1 for n in roots.values()), roots
    with sessions() as session:
        checkpoints = _anchored_checkpoints(session, digests)
        in_manifests = _batched(session, logs)
        assert all(in_manifests[d] == 1 for d in digests), "an event is in no batch, or in two"
        assert sum(log["count"] for log in logs) == len(in_manifests)
        tx_of_root = {log["root"]: log["tx"] for log in logs}
        for checkpoint in checkpoints:
            receipt = checkpoint.receipt
            assert receipt is not None
            assert tx_of_root[receipt.root] == receipt.tx_hash
        _assert_receipts_verify(checkpoints, lotlink, verify)


def assert_recorded_exactly_once(
    sessions: sessionmaker[Session],
    lotlink: LotlinkContract,
    digests: list[str],
    *,
    from_block: int,
    verify: list[str] | None = None,
) -> None:
    """Every digest is recorded directly once: exactly one CheckpointRecorded log names it, no
    anchored batch lists it, and its stored receipt (no batch, no proof, root = leaf) names that
    log; the receipts of the `verify` digests (all by default) verify against the chain."""
    logs = checkpoint_recorded_logs(lotlink, from_block)
    times = Counter(log["digest"] for log in logs)
    assert {d: times[d] for d in digests} == dict.fromkeys(digests, 1), "recorded never, or twice"
    where = {log["digest"]: log for log in logs}
    with sessions() as session:
        checkpoints = _anchored_checkpoints(session, digests)
        batched = _batched(session, batch_anchored_logs(lotlink, from_block))
        assert not set(digests) & set(batched), "a directly recorded event is in a batch too"
        for checkpoint in checkpoints:
            receipt = checkpoint.receipt
            assert receipt is not None
            assert (receipt.batch_root, receipt.proof, receipt.root) == (None, [], receipt.leaf)
            log = where[checkpoint.digest]
            stored = (receipt.tx_hash, receipt.block_number, receipt.log_index)
            assert stored == (log["tx"], log["block"], log["logIndex"]), checkpoint.digest
        _assert_receipts_verify(checkpoints, lotlink, verify)
