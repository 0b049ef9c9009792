"""Checkpoints: direct records checked on chain, batch roots whose leaves verify through Merkle proofs."""

from __future__ import annotations

import os

import pytest

from fixtures.world import World, gtin, reverts
from lotlink.chain.merkle import StandardMerkleTree, leaf_hash
from lotlink.vocabulary import CheckpointKind, Role

LEAF_ENCODING = ["bytes32", "bytes32", "address"]
GTIN = gtin("0952123400011")

# Which roles may sign which checkpoint kind (ILotlink: producers produce and transform; inspectors
# or the producer's QC inspect; trading parties and carriers ship and receive).
ALLOWED = {
    CheckpointKind.PRODUCED: {Role.SUPPLIER},
    CheckpointKind.INSPECTED: {Role.SUPPLIER, Role.INSPECTOR},
    CheckpointKind.SHIPPED: {Role.SUPPLIER, Role.CARRIER},
    CheckpointKind.RECEIVED: {Role.SUPPLIER, Role.CARRIER},
    CheckpointKind.TRANSFORMED: {Role.SUPPLIER},
}


def test_a_direct_checkpoint_is_anchored_by_its_log(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    key = world.register_lot(GTIN, "CP-1")
    digest = os.urandom(32)
    leaf = world.lotlink.call("checkpointLeaf", digest, key, supplier.address)
    receipt = world.send("recordCheckpoint", digest, key, CheckpointKind.PRODUCED.code, by=supplier)
    (event,) = world.lotlink.events(receipt, "CheckpointRecorded")
    assert event == {"lotKey": key, "signer": supplier.address, "eventHash": digest, "kind": 0}
    assert leaf == leaf_hash(LEAF_ENCODING, [digest, key, supplier.address])
    # The log is the anchor; no storage slot is spent on a direct record.
    assert world.lotlink.call("anchoredAt", leaf) == 0
    fetched = world.w3.eth.get_transaction_receipt(receipt["transactionHash"])
    assert world.lotlink.events(fetched, "CheckpointRecorded") == [event]


def test_a_relayed_checkpoint_is_signed_by_the_inspector(world: World) -> None:
    inspector = world.actors[Role.INSPECTOR]
    key = world.register_lot(GTIN, "CP-2")
    digest = os.urandom(32)
    message = {"eventHash": digest, "lotKey": key, "kind": CheckpointKind.INSPECTED.code}
    receipt = world.relay(
        "recordCheckpoint",
        digest,
        key,
        message["kind"],
        signer=inspector,
    )
    (event,) = world.lotlink.events(receipt, "CheckpointRecorded")
    assert event["signer"] == inspector.address


@pytest.mark.parametrize("kind", list(CheckpointKind))
def test_the_signers_role_must_fit_the_checkpoint_kind(world: World, kind: CheckpointKind) -> None:
    key = world.register_lot(GTIN, f"KIND-{kind.value}")
    for role, account in world.actors.items():
        digest = os.urandom(32)
        if role in ALLOWED[kind]:
            world.send("recordCheckpoint", digest, key, kind.code, by=account)
        else:
            with reverts("LotlinkRoleDoesNotFitKind", account=account.address, kind=kind.code):
                world.send("recordCheckpoint", digest, key, kind.code, by=account)


def test_an_unknown_kind_is_rejected(world: World) -> None:
    key = world.register_lot(GTIN, "CP-3")
    with reverts("LotlinkUnknownCheckpointKind", kind=5):
        world.send("recordCheckpoint", os.urandom(32), key, 5, by=world.actors[Role.SUPPLIER])


def test_a_checkpoint_of_an_unknown_lot_is_rejected(world: World) -> None:
    ghost = b"\x42" * 32
    with reverts("LotlinkUnknownLot", lotKey=ghost):
        world.send("recordCheckpoint", os.urandom(32), ghost, 0, by=world.actors[Role.SUPPLIER])


@pytest.mark.parametrize("size", [1, 2, 5, 64])
def test_every_event_of_an_anchored_batch_verifies_on_chain(world: World, size: int) -> None:
    supplier, anchorer = world.actors[Role.SUPPLIER], world.actors[Role.ANCHORER]
    key = world.register_lot(GTIN, f"BATCH-{size}")
    values = [[os.urandom(32), key, supplier.address] for _ in range(size)]
    tree = StandardMerkleTree.of(values, LEAF_ENCODING)
    root = bytes.fromhex(tree.root[2:])
    receipt = world.send(
        "anchorBatch", root, b"\x0d" * 32, size, "https://lotlink.example/m/1", by=anchorer
    )
    (event,) = world.lotlink.events(receipt, "BatchAnchored")
    assert (
        event["root"] == root and event["count"] == size and event["anchorer"] == anchorer.address
    )
    assert world.lotlink.call("anchoredAt", root) == receipt["blockNumber"]
    for index, value in tree:
        proof = [bytes.fromhex(p[2:]) for p in tree.get_proof(index)]
        leaf = world.lotlink.call("checkpointLeaf", *value)
        assert leaf == leaf_hash(LEAF_ENCODING, value)
        assert world.lotlink.call("isAnchored", root, leaf, proof)


def test_a_tampered_proof_or_an_unanchored_root_does_not_verify(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    key = world.register_lot(GTIN, "BATCH-T")
    values = [[os.urandom(32), key, supplier.address] for _ in range(8)]
    tree = StandardMerkleTree.of(values, LEAF_ENCODING)
    root = bytes.fromhex(tree.root[2:])
    leaf = leaf_hash(LEAF_ENCODING, values[3])
    proof = [bytes.fromhex(p[2:]) for p in tree.get_proof(values[3])]
    assert not world.lotlink.call("isAnchored", root, leaf, proof)  # not anchored yet
    world.send("anchorBatch", root, bytes(32), 8, "", by=world.actors[Role.ANCHORER])
    assert world.lotlink.call("isAnchored", root, leaf, proof)
    tampered = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
    assert not world.lotlink.call("isAnchored", root, leaf, tampered)
    other = leaf_hash(LEAF_ENCODING, [os.urandom(32), key, supplier.address])
    assert not world.lotlink.call("isAnchored", root, other, proof)


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ANCHORER])
def test_only_the_anchorer_anchors_batches(world: World, role: Role) -> None:
    account = world.actors[role]
    with reverts(
        "AccessControlUnauthorizedAccount", account=account.address, neededRole=Role.ANCHORER.id
    ):
        world.send("anchorBatch", os.urandom(32), bytes(32), 1, "", by=account)


def test_batch_count_limits(world: World) -> None:
    anchorer = world.actors[Role.ANCHORER]
    with reverts("LotlinkEmptyBatch"):
        world.send("anchorBatch", os.urandom(32), bytes(32), 0, "", by=anchorer)
    with reverts("LotlinkTooMany", count=2**20 + 1, limit=2**20):
        world.send("anchorBatch", os.urandom(32), bytes(32), 2**20 + 1, "", by=anchorer)


def test_a_root_cannot_be_anchored_twice(world: World) -> None:
    anchorer = world.actors[Role.ANCHORER]
    root = os.urandom(32)
    receipt = world.send("anchorBatch", root, bytes(32), 3, "", by=anchorer)
    with reverts("LotlinkAlreadyAnchored", root=root, blockNumber=receipt["blockNumber"]):
        world.send("anchorBatch", root, bytes(32), 3, "", by=anchorer)
