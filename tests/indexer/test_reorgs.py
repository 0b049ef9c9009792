"""Reorgs on anvil: whatever branch wins, the index ends equal to a fresh index of the chain."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fixtures.world import GLNS, World, gtin
from lotlink.chain.typed_data import Authorization
from lotlink.errors import ReorgTooDeepError
from lotlink.indexer.follower import Follower
from lotlink.models import ActorRole, Certificate, Lot, Recall, RecallStatus
from lotlink.vocabulary import CertificateKind, Role, SubjectKind

from .chains import rpc
from .conftest import MakeFollower
from .scenario import h32, snapshot, write_lots


def _rebuilt(follower: Follower, engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """The index `reindex` builds from the same chain, in the same database."""
    follower.reset()
    follower.catch_up()
    return snapshot(engine)


def _common_past(world: World) -> tuple[str, int, str]:
    """Lots, a recall, a certificate and a role: what the lost branch will change."""
    history = write_lots(world)
    regulator, certifier = world.actors[Role.REGULATOR], world.actors[Role.CERTIFIER]
    raw = bytes.fromhex(history.raw[2:])
    receipt = world.send("issueRecall", [raw], 2, h32("reason"), by=regulator)
    recall = int(world.lotlink.events(receipt, "RecallIssued")[0]["recallId"])
    world.send("updateRecall", recall, 3, h32("first update"), by=regulator)
    now = world.now()
    issue = (SubjectKind.LOT.code, raw, CertificateKind.INSPECTION_REPORT.code, h32("r.pdf"),
             now - 5, now + 86400)  # fmt: skip
    receipt = world.send("issueCertificate", issue, by=certifier)
    certificate = (
        "0x" + world.lotlink.events(receipt, "CertificateIssued")[0]["certificateId"].hex()
    )
    world.lotlink.transact(
        "grantRole", Role.CARRIER.id, world.actors[Role.INSPECTOR].address, sender=world.admin
    )
    return history.raw, recall, certificate


def _lost_branch(world: World, recall: int, certificate: str) -> None:
    regulator, certifier = world.actors[Role.REGULATOR], world.actors[Role.CERTIFIER]
    supplier, inspector = world.actors[Role.SUPPLIER], world.actors[Role.INSPECTOR]
    world.send("updateRecall", recall, 1, h32("worse"), by=regulator)
    world.send("closeRecall", recall, h32("over"), by=regulator)
    world.send("revokeCertificate", bytes.fromhex(certificate[2:]), h32("bad"), by=certifier)
    world.send("updateActorProfile", supplier.address, GLNS[Role.SUPPLIER], h32("p2"), by=supplier)
    world.lotlink.transact("revokeRole", Role.CARRIER.id, inspector.address, sender=world.admin)
    world.register_lot(gtin("0952123400009"), "LOST1")


def test_snapshot_revert_then_another_branch(
    private_world: World, engine: Engine, make_private_follower: MakeFollower
) -> None:
    world = private_world
    _raw, recall, certificate = _common_past(world)
    follower = make_private_follower()
    follower.catch_up()
    fork = rpc(world, "evm_snapshot")
    _lost_branch(world, recall, certificate)
    follower.catch_up()
    lost_head = world.w3.eth.block_number

    assert rpc(world, "evm_revert", fork) is True
    world.register_lot(gtin("0952123400010"), "WON1")
    rpc(world, "anvil_mine", hex(lost_head - world.w3.eth.block_number + 2))
    follower.catch_up()
    assert follower.status.reorgs == 1

    with Session(engine) as session:
        row = session.get(Recall, recall)
        assert row is not None and row.status is RecallStatus.ACTIVE and row.recall_class == 3
        assert row.updated_block is not None and row.closed_at is None
        cert = session.get(Certificate, certificate)
        assert cert is not None and not cert.revoked and cert.revoked_block is None
        inspector = world.actors[Role.INSPECTOR].address.lower()
        assert session.get(ActorRole, (inspector, Role.CARRIER)) is not None
        assert {lot.lot_code for lot in session.query(Lot)} >= {"WON1", "RAWA"}
        assert "LOST1" not in {lot.lot_code for lot in session.query(Lot)}
    live = snapshot(engine)
    assert _rebuilt(follower, engine) == live


def test_anvil_reorg_replaces_the_last_blocks(
    private_world: World, engine: Engine, make_private_follower: MakeFollower
) -> None:
    world = private_world
    write_lots(world)
    follower = make_private_follower()
    follower.catch_up()
    world.register_lot(gtin("0952123400011"), "GONE1")
    world.register_lot(gtin("0952123400012"), "GONE2")
    follower.catch_up()

    supplier = world.actors[Role.SUPPLIER]
    lot = (gtin("0952123400013"), "NEW1", [], [], 7000, "KGM", bytes(32))
    call = world.lotlink.contract.functions.registerLot(lot, Authorization.direct().as_tuple())
    tx = call.build_transaction({
        "from": supplier.address, "gas": 500_000, "chainId": world.lotlink.chain_id,
        "nonce": world.w3.eth.get_transaction_count(supplier.address) - 2,
        "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9,
    })  # fmt: skip
    raw = supplier.sign_transaction(tx).raw_transaction.to_0x_hex()
    rpc(world, "anvil_reorg", 2, [[raw, 0]])  # the last 2 blocks replaced; NEW1 in the first
    follower.catch_up()

    assert follower.status.reorgs == 1
    with Session(engine) as session:
        codes = {lot.lot_code for lot in session.query(Lot)}
    assert "NEW1" in codes and not {"GONE1", "GONE2"} & codes
    live = snapshot(engine)
    assert _rebuilt(follower, engine) == live


def test_a_reorg_deeper_than_the_window_stops_the_follower(
    private_world: World, engine: Engine, make_private_follower: MakeFollower
) -> None:
    world = private_world
    fork = rpc(world, "evm_snapshot")
    for n in range(4):
        world.register_lot(gtin("0952123400014"), f"DEEP{n}")
    follower = make_private_follower(window=2, max_range=1)
    follower.catch_up()
    before = snapshot(engine)
    assert rpc(world, "evm_revert", fork) is True
    rpc(world, "anvil_mine", "0x8")
    with pytest.raises(ReorgTooDeepError, match="deeper than the 2 unconfirmed blocks"):
        follower.catch_up()
    assert snapshot(engine) == before
