"""Relayed writes: only the actor's own, fresh, in-time signature makes a write; the sender is irrelevant."""

from __future__ import annotations

from eth_account import Account

from fixtures.world import World, gtin, reverts
from lotlink.chain.typed_data import Authorization, Domain
from lotlink.gs1.keys import lot_key
from lotlink.vocabulary import CheckpointKind, Role

GTIN = gtin("0952123454321")


def _lot_message(lot_code: str) -> dict:
    return {
        "gtin": GTIN,
        "lotCode": lot_code,
        "parents": [],
        "parentQuantities": [],
        "quantity": 1000,
        "uom": "KGM",
        "detailsHash": bytes(32),
    }


def _lot_tuple(message: dict) -> tuple:
    return tuple(
        message[k]
        for k in (
            "gtin",
            "lotCode",
            "parents",
            "parentQuantities",
            "quantity",
            "uom",
            "detailsHash",
        )
    )


def test_a_relayed_write_is_made_by_its_signer_not_its_sender(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    message = _lot_message("RELAYED-1")
    receipt = world.relay("registerLot", _lot_tuple(message), signer=supplier)
    (event,) = world.lotlink.events(receipt, "LotRegistered")
    assert event["owner"] == supplier.address
    assert receipt["from"] == world.stranger.address
    owner, _ = world.lotlink.call("lotOf", lot_key(GTIN, "RELAYED-1"))
    assert owner == supplier.address
    assert world.lotlink.call("nonces", supplier.address) == 1


def test_a_replayed_signature_is_rejected(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    key = world.register_lot(GTIN, "REPLAY-1")
    call = (b"\x11" * 32, key, CheckpointKind.PRODUCED.code)
    auth = world.lotlink.sign_write(
        "recordCheckpoint", *call, signer=supplier, deadline=world.now() + 60
    )
    args = (*call, auth.as_tuple())
    world.lotlink.transact("recordCheckpoint", *args, sender=world.stranger)
    with reverts("InvalidAccountNonce", account=supplier.address, currentNonce=1):
        world.lotlink.transact("recordCheckpoint", *args, sender=world.stranger)


def test_a_signature_from_another_key_is_rejected(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    message = {**_lot_message("FORGED-1"), "nonce": 0, "deadline": world.now() + 600}
    forged = Authorization.signed(
        world.stranger,
        "RegisterLot",
        _lot_message("FORGED-1"),
        world.lotlink.domain,
        nonce=0,
        deadline=message["deadline"],
    )
    claimed = Authorization(supplier.address, forged.nonce, forged.deadline, forged.signature)
    with reverts("LotlinkInvalidSigner", recovered=world.stranger.address, signer=supplier.address):
        world.lotlink.transact(
            "registerLot", _lot_tuple(message), claimed.as_tuple(), sender=world.stranger
        )


def test_a_signature_over_other_content_is_rejected(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    signed = _lot_tuple(_lot_message("SIGNED-A"))
    auth = world.lotlink.sign_write(
        "registerLot", signed, signer=supplier, deadline=world.now() + 60
    )
    with reverts("LotlinkInvalidSigner", signer=supplier.address):
        world.lotlink.transact(
            "registerLot",
            _lot_tuple(_lot_message("SUBMITTED-B")),
            auth.as_tuple(),
            sender=world.stranger,
        )


def test_a_signature_for_another_deployment_is_rejected(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    other = Domain(chain_id=world.lotlink.chain_id, verifying_contract="0x" + "42" * 20)
    auth = Authorization.signed(
        supplier, "RegisterLot", _lot_message("OTHER-1"), other, nonce=0, deadline=world.now() + 600
    )
    with reverts("LotlinkInvalidSigner", signer=supplier.address):
        world.lotlink.transact(
            "registerLot",
            _lot_tuple(_lot_message("OTHER-1")),
            auth.as_tuple(),
            sender=world.stranger,
        )


def test_an_expired_signature_is_rejected(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    deadline = world.now() - 1
    with reverts("LotlinkExpiredSignature", deadline=deadline):
        world.relay(
            "registerLot",
            _lot_tuple(_lot_message("LATE-1")),
            signer=supplier,
            deadline=deadline,
        )


def test_a_malformed_signature_is_rejected(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    junk = Authorization(supplier.address, 0, world.now() + 600, b"\x01" * 64)
    with reverts("LotlinkMalformedSignature"):
        world.lotlink.transact(
            "registerLot",
            _lot_tuple(_lot_message("JUNK-1")),
            junk.as_tuple(),
            sender=world.stranger,
        )


def test_keyed_nonces_let_independent_clients_sign_without_coordinating(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    key = 7
    keyed_nonce = key << 64
    message = _lot_message("KEYED-1")
    world.relay(
        "registerLot",
        _lot_tuple(message),
        signer=supplier,
        nonce=keyed_nonce,
    )
    assert world.lotlink.call("nonces", supplier.address, key) == keyed_nonce + 1
    assert world.lotlink.call("nonces", supplier.address) == 0  # the default sequence is untouched


def test_a_fresh_key_never_registered_cannot_act(world: World) -> None:
    nobody = Account.create()
    message = _lot_message("NOBODY-1")
    with reverts(
        "AccessControlUnauthorizedAccount", account=nobody.address, neededRole=Role.SUPPLIER.id
    ):
        world.relay("registerLot", _lot_tuple(message), signer=nobody)
