"""The anchorer against the session chain: batches by size, receipts that verify, each root once."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from anchoring.builders import Submitter
from anchoring.checks import assert_anchored_exactly_once, batch_anchored_logs
from fixtures.world import GLNS, World
from lotlink.anchoring.receipts import receipt_document
from lotlink.anchoring.verify import verify_receipt
from lotlink.chain.typed_data import Authorization
from lotlink.models import (
    AnchorTransaction,
    Batch,
    BatchStatus,
    Checkpoint,
    OutboxEntry,
    OutboxState,
)
from lotlink.vocabulary import Role


def test_events_are_batched_by_size_and_every_receipt_verifies(
    world: World, sessions: sessionmaker[Session], submitter: Submitter, anchorer_factory: Any
) -> None:
    start = world.w3.eth.block_number + 1
    digests = submitter.accept(7)
    anchorer = anchorer_factory(batch_size=3)

    anchorer.drain()

    logs = batch_anchored_logs(world.lotlink, start)
    assert sorted(log["count"] for log in logs) == [1, 3, 3]
    assert_anchored_exactly_once(sessions, world.lotlink, digests, from_block=start)
    with sessions() as session:
        states = session.scalars(select(OutboxEntry.state)).all()
    assert set(states) == {OutboxState.ANCHORED}


def test_a_partial_batch_waits_for_its_interval(
    world: World, submitter: Submitter, anchorer_factory: Any
) -> None:
    submitter.accept(2)
    anchorer = anchorer_factory(batch_size=10, batch_interval_ms=3_600_000)

    assert anchorer.step() is False  # neither full nor due: nothing is sent
    assert anchorer.batcher.close_batch() is None


def test_draining_again_anchors_nothing_twice(
    world: World, sessions: sessionmaker[Session], submitter: Submitter, anchorer_factory: Any
) -> None:
    start = world.w3.eth.block_number + 1
    digests = submitter.accept(3)
    anchorer = anchorer_factory()
    anchorer.drain()
    anchorer.drain()
    anchorer_factory().drain()  # a second process, same database
    assert len(batch_anchored_logs(world.lotlink, start)) == 1
    assert_anchored_exactly_once(sessions, world.lotlink, digests, from_block=start)


def test_a_root_anchored_by_someone_else_is_not_sent_again(
    world: World, sessions: sessionmaker[Session], submitter: Submitter, anchorer_factory: Any
) -> None:
    start = world.w3.eth.block_number + 1
    digests = submitter.accept(4)
    anchorer = anchorer_factory(batch_size=4)
    root = anchorer.batcher.close_batch()
    assert root is not None
    with sessions() as session:
        batch = session.get_one(Batch, root)
        args = (bytes.fromhex(root[2:]), bytes.fromhex(batch.manifest_hash[2:]), 4, "elsewhere")
    # Another anchorer (the admin is given the role for this) gets there first.
    world.send(
        "registerActor",
        world.stranger.address,
        Role.ANCHORER.id,
        GLNS[Role.ANCHORER],
        bytes(32),
        by=world.admin,
    )
    world.lotlink.transact(
        "anchorBatch", *args, Authorization.direct().as_tuple(), sender=world.stranger
    )

    anchorer.drain()

    logs = batch_anchored_logs(world.lotlink, start)
    assert len(logs) == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(AnchorTransaction)) == 0
        assert session.get_one(Batch, root).status == BatchStatus.ANCHORED
        checkpoint = session.get_one(Checkpoint, digests[0])
        document = receipt_document(
            checkpoint, chain_id=world.lotlink.chain_id, contract_address=world.lotlink.address
        )
    assert document["transactionHash"] == logs[0]["tx"]
    assert verify_receipt(document, world.w3) == []


def test_a_stuck_transaction_is_replaced_at_the_same_nonce(
    world: World, sessions: sessionmaker[Session], submitter: Submitter, anchorer_factory: Any
) -> None:
    start = world.w3.eth.block_number + 1
    digests = submitter.accept(2)
    anchorer = anchorer_factory(batch_size=2)
    anchorer.sender.replace_after = 0.2
    provider = world.w3.provider
    provider.make_request("evm_setAutomine", [False])
    try:
        worker = threading.Thread(target=anchorer.step)
        worker.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with sessions() as session:
                sent = session.scalars(select(AnchorTransaction)).all()
            if len(sent) >= 2:
                break
            time.sleep(0.05)
        provider.make_request("evm_mine", [])
        worker.join(60)
        assert not worker.is_alive()
    finally:
        provider.make_request("evm_setAutomine", [True])

    assert len({tx.nonce for tx in sent}) == 1
    fees = sorted(tx.max_priority_fee_per_gas or 0 for tx in sent)
    assert fees[1] > fees[0]
    logs = batch_anchored_logs(world.lotlink, start)
    assert len(logs) == 1
    # The replacement (the highest fee at that nonce) is what was mined, not the stuck original.
    replacement = max(sent, key=lambda tx: tx.max_priority_fee_per_gas or 0)
    assert logs[0]["tx"] == replacement.tx_hash
    assert_anchored_exactly_once(sessions, world.lotlink, digests, from_block=start)
