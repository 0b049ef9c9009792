"""Actors: only the admin gives roles; GLNs are checked; profiles change by the actor or the admin."""

from __future__ import annotations

import pytest
from eth_account import Account

from fixtures.world import GLNS, World, reverts
from lotlink.gs1.keys import check_digit
from lotlink.vocabulary import Role

NEW_GLN = int("952123499999" + str(check_digit("952123499999")))


def test_the_admin_registers_an_actor_with_a_role(world: World) -> None:
    newcomer = Account.create()
    receipt = world.send(
        "registerActor", newcomer.address, Role.CARRIER.id, NEW_GLN, b"\x01" * 32, by=world.admin
    )
    (event,) = world.lotlink.events(receipt, "ActorRegistered")
    assert event == {
        "account": newcomer.address,
        "role": Role.CARRIER.id,
        "gln": NEW_GLN,
        "profileHash": b"\x01" * 32,
    }
    (granted,) = world.lotlink.events(receipt, "RoleGranted")
    assert granted["account"] == newcomer.address and granted["role"] == Role.CARRIER.id
    assert world.lotlink.call("hasRole", Role.CARRIER.id, newcomer.address)
    assert world.lotlink.call("actorOf", newcomer.address) == (NEW_GLN, b"\x01" * 32)


def test_an_actor_may_hold_several_roles(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    world.send(
        "registerActor",
        supplier.address,
        Role.CARRIER.id,
        GLNS[Role.SUPPLIER],
        bytes(32),
        by=world.admin,
    )
    assert world.lotlink.call("hasRole", Role.CARRIER.id, supplier.address)
    assert world.lotlink.call("hasRole", Role.SUPPLIER.id, supplier.address)


def test_registration_by_admin_signature_can_be_relayed(world: World) -> None:
    newcomer = Account.create()
    world.relay(
        "registerActor",
        newcomer.address,
        Role.INSPECTOR.id,
        NEW_GLN,
        bytes(32),
        signer=world.admin,
    )
    assert world.lotlink.call("hasRole", Role.INSPECTOR.id, newcomer.address)


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_only_the_admin_registers_actors(world: World, role: Role) -> None:
    account = world.actors[role]
    with reverts(
        "AccessControlUnauthorizedAccount", account=account.address, neededRole=Role.ADMIN.id
    ):
        world.send(
            "registerActor",
            Account.create().address,
            Role.SUPPLIER.id,
            NEW_GLN,
            bytes(32),
            by=account,
        )


def test_an_unknown_role_is_rejected(world: World) -> None:
    with reverts("LotlinkUnknownRole", role=b"\x99" * 32):
        world.send(
            "registerActor",
            Account.create().address,
            b"\x99" * 32,
            NEW_GLN,
            bytes(32),
            by=world.admin,
        )


def test_registering_a_role_twice_is_rejected(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    with reverts("LotlinkActorAlreadyRegistered", account=supplier.address, role=Role.SUPPLIER.id):
        world.send(
            "registerActor", supplier.address, Role.SUPPLIER.id, NEW_GLN, bytes(32), by=world.admin
        )


@pytest.mark.parametrize("gln", [0, NEW_GLN + 1, 10**13, 2**64 - 1])
def test_an_invalid_gln_is_rejected(world: World, gln: int) -> None:
    with reverts("LotlinkInvalidGln", gln=gln):
        world.send(
            "registerActor",
            Account.create().address,
            Role.SUPPLIER.id,
            gln,
            bytes(32),
            by=world.admin,
        )


def test_a_gln_with_leading_zeros_is_accepted(world: World) -> None:
    gln = int("061414100000" + str(check_digit("061414100000")))  # 0614141000005 has 13 digits
    newcomer = Account.create()
    world.send("registerActor", newcomer.address, Role.SUPPLIER.id, gln, bytes(32), by=world.admin)
    assert world.lotlink.call("actorOf", newcomer.address)[0] == gln


def test_an_actor_updates_its_own_profile(world: World) -> None:
    carrier = world.actors[Role.CARRIER]
    receipt = world.send("updateActorProfile", carrier.address, NEW_GLN, b"\x05" * 32, by=carrier)
    (event,) = world.lotlink.events(receipt, "ActorProfileUpdated")
    assert event == {"account": carrier.address, "gln": NEW_GLN, "profileHash": b"\x05" * 32}


def test_nobody_else_updates_an_actors_profile(world: World) -> None:
    carrier, supplier = world.actors[Role.CARRIER], world.actors[Role.SUPPLIER]
    with reverts(
        "AccessControlUnauthorizedAccount", account=supplier.address, neededRole=Role.ADMIN.id
    ):
        world.send("updateActorProfile", carrier.address, NEW_GLN, bytes(32), by=supplier)
    world.send("updateActorProfile", carrier.address, NEW_GLN, bytes(32), by=world.admin)


def test_an_unknown_actor_has_no_profile_to_update(world: World) -> None:
    ghost = Account.create().address
    with reverts("LotlinkUnknownActor", account=ghost):
        world.send("updateActorProfile", ghost, NEW_GLN, bytes(32), by=world.admin)
