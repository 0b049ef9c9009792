"""Recalls: regulators recall anything, owners recall their own lots; updates and closing by authority."""

from __future__ import annotations

import os

from eth_account import Account

from fixtures.world import World, gtin, reverts
from lotlink.vocabulary import Role

GTIN = gtin("0952123400031")
# ILotlink.RecallStatus codes as `recallOf` returns them.
ACTIVE, CLOSED = 1, 2


def _recall_id(world: World, receipt: object) -> int:
    return world.lotlink.events(receipt, "RecallIssued")[0]["recallId"]


def test_a_regulator_recalls_lots_and_each_lot_is_named_in_an_event(world: World) -> None:
    regulator = world.actors[Role.REGULATOR]
    lots = [world.register_lot(GTIN, "R-1"), world.register_lot(GTIN, "R-2")]
    receipt = world.send("issueRecall", lots, 1, b"\x0a" * 32, by=regulator)
    (issued,) = world.lotlink.events(receipt, "RecallIssued")
    assert issued == {
        "recallId": 1,
        "issuer": regulator.address,
        "recallClass": 1,
        "reasonHash": b"\x0a" * 32,
        "voluntary": False,
    }
    assert world.lotlink.events(receipt, "LotRecalled") == [
        {"lotKey": k, "recallId": 1} for k in lots
    ]
    assert [world.lotlink.call("activeRecallCount", k) for k in lots] == [1, 1]
    recall = world.lotlink.call("recallOf", 1)
    assert recall[0] == regulator.address and recall[2] == ACTIVE
    assert world.lotlink.call("recallLots", 1) == lots
    assert world.lotlink.call("recallCount") == 1


def test_an_owner_recalls_its_own_lot_voluntarily(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    key = world.register_lot(GTIN, "R-3")
    receipt = world.send("issueRecall", [key], 2, bytes(32), by=supplier)
    assert world.lotlink.events(receipt, "RecallIssued")[0]["voluntary"] is True


def test_nobody_else_recalls_a_lot(world: World) -> None:
    key = world.register_lot(GTIN, "R-4")
    for role in (Role.INSPECTOR, Role.CARRIER, Role.CERTIFIER, Role.ANCHORER, Role.ADMIN):
        account = world.actors[role]
        with reverts("LotlinkNotLotOwner", lotKey=key, account=account.address):
            world.send("issueRecall", [key], 1, bytes(32), by=account)


def test_recall_input_is_checked(world: World) -> None:
    regulator = world.actors[Role.REGULATOR]
    key = world.register_lot(GTIN, "R-5")
    for bad_class in (0, 4):
        with reverts("LotlinkInvalidRecallClass", recallClass=bad_class):
            world.send("issueRecall", [key], bad_class, bytes(32), by=regulator)
    with reverts("LotlinkEmptyRecall"):
        world.send("issueRecall", [], 1, bytes(32), by=regulator)
    ghost = b"\x44" * 32
    with reverts("LotlinkUnknownLot", lotKey=ghost):
        world.send("issueRecall", [key, ghost], 1, bytes(32), by=regulator)
    with reverts("LotlinkDuplicateEntry", lotKey=key):
        world.send("issueRecall", [key, key], 1, bytes(32), by=regulator)
    with reverts("LotlinkTooMany", count=257, limit=256):
        world.send("issueRecall", [os.urandom(32) for _ in range(257)], 1, bytes(32), by=regulator)


def test_the_issuer_or_a_regulator_updates_a_recall(world: World) -> None:
    supplier, regulator, carrier = (
        world.actors[Role.SUPPLIER],
        world.actors[Role.REGULATOR],
        world.actors[Role.CARRIER],
    )
    key = world.register_lot(GTIN, "R-6")
    recall_id = _recall_id(world, world.send("issueRecall", [key], 3, bytes(32), by=supplier))
    world.send("updateRecall", recall_id, 2, b"\x01" * 32, by=supplier)
    receipt = world.send("updateRecall", recall_id, 1, b"\x02" * 32, by=regulator)  # escalated
    assert world.lotlink.events(receipt, "RecallUpdated") == [
        {
            "recallId": recall_id,
            "updater": regulator.address,
            "recallClass": 1,
            "reasonHash": b"\x02" * 32,
        }
    ]
    with reverts("LotlinkNotRecallAuthority", recallId=recall_id, account=carrier.address):
        world.send("updateRecall", recall_id, 1, bytes(32), by=carrier)
    with reverts("LotlinkInvalidRecallClass", recallClass=9):
        world.send("updateRecall", recall_id, 9, bytes(32), by=regulator)
    with reverts("LotlinkUnknownRecall", recallId=99):
        world.send("updateRecall", 99, 1, bytes(32), by=regulator)


def test_a_closed_recall_no_longer_counts_and_cannot_change(world: World) -> None:
    regulator = world.actors[Role.REGULATOR]
    key = world.register_lot(GTIN, "R-7")
    first = _recall_id(world, world.send("issueRecall", [key], 1, bytes(32), by=regulator))
    second = _recall_id(world, world.send("issueRecall", [key], 2, bytes(32), by=regulator))
    assert world.lotlink.call("activeRecallCount", key) == 2
    receipt = world.send("closeRecall", first, b"\x0c" * 32, by=regulator)
    assert world.lotlink.events(receipt, "RecallClosed") == [
        {"recallId": first, "closer": regulator.address, "reasonHash": b"\x0c" * 32}
    ]
    assert world.lotlink.call("activeRecallCount", key) == 1
    assert world.lotlink.call("recallOf", first)[2] == CLOSED
    with reverts("LotlinkRecallNotActive", recallId=first):
        world.send("closeRecall", first, bytes(32), by=regulator)
    with reverts("LotlinkRecallNotActive", recallId=first):
        world.send("updateRecall", first, 1, bytes(32), by=regulator)
    assert second == first + 1


def test_a_recall_can_be_relayed_with_the_regulators_signature(world: World) -> None:
    regulator = world.actors[Role.REGULATOR]
    key = world.register_lot(GTIN, "R-8")
    receipt = world.relay(
        "issueRecall",
        [key],
        1,
        bytes(32),
        signer=regulator,
        relayer=Account.from_key(world.stranger.key),
    )
    assert world.lotlink.events(receipt, "RecallIssued")[0]["issuer"] == regulator.address
