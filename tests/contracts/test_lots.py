"""Lots and lineage: keys anyone can derive, GS1 validation on chain, parents before children."""

from __future__ import annotations

import pytest

from fixtures.world import World, gtin, reverts
from lotlink.errors import InvalidGs1KeyError
from lotlink.gs1.keys import lot_key, normalize_gtin, validate_lot_code
from lotlink.vocabulary import Role

MILK = gtin("0952123400001")
FORMULA = gtin("0952123400002")


def _lot(
    gtin14: str,
    lot_code: str,
    parents: list[bytes] | None = None,
    quantities: list[int] | None = None,
) -> tuple:
    parents = parents or []
    return (
        gtin14,
        lot_code,
        parents,
        quantities if quantities is not None else [1] * len(parents),
        2500,
        "KGM",
        b"\x07" * 32,
    )


def test_a_raw_lot_is_registered_with_a_key_anyone_can_derive(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    receipt = world.send("registerLot", _lot(MILK, "FARM-A-0601"), by=supplier)
    key = lot_key(MILK, "FARM-A-0601")
    (event,) = world.lotlink.events(receipt, "LotRegistered")
    assert event["lotKey"] == key
    assert event["owner"] == supplier.address
    assert tuple(event["lot"].values()) == _lot(MILK, "FARM-A-0601")
    assert world.lotlink.call("lotKeyOf", MILK, "FARM-A-0601") == key
    assert world.lotlink.call("lotOf", key) == (supplier.address, receipt["blockNumber"])
    assert world.lotlink.call("lotParents", key) == []


def test_a_transformation_records_its_parents_and_quantities(world: World) -> None:
    farm_a = world.register_lot(MILK, "FARM-A")
    farm_b = world.register_lot(MILK, "FARM-B")
    receipt = world.send(
        "registerLot",
        _lot(FORMULA, "F-2026-11", [farm_a, farm_b], [1200_000, 800_500]),
        by=world.actors[Role.SUPPLIER],
    )
    (event,) = world.lotlink.events(receipt, "LotRegistered")
    assert event["lot"]["parents"] == [farm_a, farm_b]
    assert event["lot"]["parentQuantities"] == [1200_000, 800_500]
    assert world.lotlink.call("lotParents", lot_key(FORMULA, "F-2026-11")) == [farm_a, farm_b]


def test_a_duplicate_lot_is_rejected(world: World) -> None:
    key = world.register_lot(MILK, "DUP-1")
    with reverts("LotlinkDuplicateLot", lotKey=key):
        world.register_lot(MILK, "DUP-1")


def test_an_unknown_parent_is_rejected(world: World) -> None:
    ghost = lot_key(MILK, "NEVER-REGISTERED")
    with reverts("LotlinkUnknownLot", lotKey=ghost):
        world.send("registerLot", _lot(FORMULA, "F-1", [ghost]), by=world.actors[Role.SUPPLIER])


def test_a_parent_named_twice_is_rejected(world: World) -> None:
    parent = world.register_lot(MILK, "TWICE")
    with reverts("LotlinkDuplicateEntry", lotKey=parent):
        world.send(
            "registerLot", _lot(FORMULA, "F-2", [parent, parent]), by=world.actors[Role.SUPPLIER]
        )


def test_parents_and_quantities_must_pair_up(world: World) -> None:
    parent = world.register_lot(MILK, "PAIR")
    with reverts("LotlinkLengthMismatch", expected=1, actual=2):
        world.send(
            "registerLot", _lot(FORMULA, "F-3", [parent], [1, 2]), by=world.actors[Role.SUPPLIER]
        )


def test_too_many_parents_are_rejected(world: World) -> None:
    parents = [bytes([i % 256, i // 256]) + bytes(30) for i in range(257)]
    with reverts("LotlinkTooMany", count=257, limit=256):
        world.send("registerLot", _lot(FORMULA, "F-4", parents), by=world.actors[Role.SUPPLIER])


@pytest.mark.parametrize(
    "bad", ["09521234543214", "9521234543213", "0952123454321X", "095212345432130", ""]
)
def test_an_invalid_gtin_is_rejected_on_chain_and_in_python(world: World, bad: str) -> None:
    with reverts("LotlinkInvalidGtin", gtin=bad):
        world.send("registerLot", _lot(bad, "L1"), by=world.actors[Role.SUPPLIER])
    if len(bad) == 14:
        with pytest.raises(InvalidGs1KeyError):
            normalize_gtin(bad)


@pytest.mark.parametrize("bad", ["", "A" * 21, "LOT#1", "LOT 1", "lot@x", "L[1]", "ÄPFEL"])
def test_an_invalid_lot_code_is_rejected_on_chain_and_in_python(world: World, bad: str) -> None:
    with reverts("LotlinkInvalidLotCode", lotCode=bad):
        world.send("registerLot", _lot(MILK, bad), by=world.actors[Role.SUPPLIER])
    with pytest.raises(InvalidGs1KeyError):
        validate_lot_code(bad)


def test_every_cset82_character_is_accepted(world: World) -> None:
    cset82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
    for start in range(0, len(cset82), 20):
        code = cset82[start : start + 20]
        assert world.register_lot(MILK, code) == world.lotlink.call("lotKeyOf", MILK, code)


def test_only_suppliers_register_lots(world: World) -> None:
    for role in (
        Role.INSPECTOR,
        Role.CARRIER,
        Role.CERTIFIER,
        Role.REGULATOR,
        Role.ANCHORER,
        Role.ADMIN,
    ):
        account = world.actors[role]
        with reverts(
            "AccessControlUnauthorizedAccount", account=account.address, neededRole=Role.SUPPLIER.id
        ):
            world.send("registerLot", _lot(MILK, f"BY-{role.name}"), by=account)


def test_quantities_beyond_int64_thousandths_are_rejected(world: World) -> None:
    limit = 2**63 - 1
    supplier = world.actors[Role.SUPPLIER]
    with reverts("LotlinkQuantityTooLarge", quantity=limit + 1, limit=limit):
        world.send("registerLot", (MILK, "BIG", [], [], limit + 1, "KGM", bytes(32)), by=supplier)
    parent = world.register_lot(MILK, "BIG-PARENT")
    with reverts("LotlinkQuantityTooLarge", quantity=2**255, limit=limit):
        world.send(
            "registerLot",
            (FORMULA, "BIG-CHILD", [parent], [2**255], 1, "KGM", bytes(32)),
            by=supplier,
        )
    world.send("registerLot", (MILK, "MAX", [], [], limit, "KGM", bytes(32)), by=supplier)


def test_a_unit_must_be_a_rec20_code(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    for bad in ("", "KGMS"):
        with reverts("LotlinkInvalidUnit", uom=bad):
            world.send(
                "registerLot", (MILK, f"UNIT-{len(bad)}", [], [], 1, bad, bytes(32)), by=supplier
            )
