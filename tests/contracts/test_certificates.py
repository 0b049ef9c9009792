"""Certificates: who may certify what, validity windows, and revocation by the issuer alone."""

from __future__ import annotations

import os

from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from fixtures.world import World, gtin, reverts
from lotlink.vocabulary import CertificateKind, Role, SubjectKind

GTIN = gtin("0952123400021")


def _actor_subject(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


def _issue(
    world: World,
    *,
    subject_kind: SubjectKind,
    subject: bytes,
    kind: CertificateKind = CertificateKind.ISO9001,
    valid_from: int | None = None,
    valid_until: int | None = None,
    document: bytes | None = None,
) -> tuple:
    now = world.now()
    return (
        subject_kind.code,
        subject,
        kind.code,
        document or os.urandom(32),
        now - 10 if valid_from is None else valid_from,
        now + 86_400 if valid_until is None else valid_until,
    )


def test_a_certifier_certifies_a_lot_and_the_certificate_is_valid(world: World) -> None:
    certifier = world.actors[Role.CERTIFIER]
    key = world.register_lot(GTIN, "C-1")
    issue = _issue(
        world,
        subject_kind=SubjectKind.LOT,
        subject=key,
        kind=CertificateKind.CERTIFICATE_OF_ANALYSIS,
    )
    receipt = world.send("issueCertificate", issue, by=certifier)
    expected_id = keccak(
        encode(
            ["address", "uint8", "bytes32", "uint8", "bytes32"],
            [certifier.address, issue[0], issue[1], issue[2], issue[3]],
        )
    )
    (event,) = world.lotlink.events(receipt, "CertificateIssued")
    assert event == {
        "certificateId": expected_id,
        "issuer": certifier.address,
        "subject": key,
        "subjectKind": 1,
        "kind": 3,
        "documentHash": issue[3],
        "validFrom": issue[4],
        "validUntil": issue[5],
    }
    stored = world.lotlink.call("certificateOf", expected_id)
    assert stored[0] == certifier.address and stored[4] is False
    assert world.lotlink.call("isCertificateValid", expected_id)


def test_a_certificate_is_valid_only_inside_its_window(world: World) -> None:
    inspector = world.actors[Role.INSPECTOR]
    supplier = world.actors[Role.SUPPLIER]
    now = world.now()
    future = _issue(
        world,
        subject_kind=SubjectKind.ACTOR,
        subject=_actor_subject(supplier.address),
        valid_from=now + 1000,
        valid_until=now + 2000,
    )
    world.send("issueCertificate", future, by=inspector)
    certificate_id = world.lotlink.events(
        world.send(
            "issueCertificate",
            _issue(
                world,
                subject_kind=SubjectKind.ACTOR,
                subject=_actor_subject(supplier.address),
                valid_from=now - 2000,
                valid_until=now - 1000,
            ),
            by=inspector,
        ),
        "CertificateIssued",
    )[0]["certificateId"]
    assert not world.lotlink.call("isCertificateValid", certificate_id)  # expired
    assert not world.lotlink.call("isCertificateValid", b"\x01" * 32)  # unknown


def test_a_supplier_may_self_declare_about_itself_and_its_own_lots(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    key = world.register_lot(GTIN, "C-2")
    world.send(
        "issueCertificate",
        _issue(world, subject_kind=SubjectKind.ACTOR, subject=_actor_subject(supplier.address)),
        by=supplier,
    )
    world.send(
        "issueCertificate", _issue(world, subject_kind=SubjectKind.LOT, subject=key), by=supplier
    )


def test_a_supplier_may_not_certify_others(world: World) -> None:
    supplier = world.actors[Role.SUPPLIER]
    rival = Account.from_key(os.urandom(32))
    world.send(
        "registerActor", rival.address, Role.SUPPLIER.id, 9521234001003, bytes(32), by=world.admin
    )
    world.w3.eth.wait_for_transaction_receipt(
        world.w3.eth.send_transaction(
            {"from": world.w3.eth.accounts[9], "to": rival.address, "value": 10**18}
        )
    )
    rivals_lot = world.register_lot(GTIN, "C-RIVAL", by=rival)
    carrier_subject = _actor_subject(world.actors[Role.CARRIER].address)
    with reverts(
        "LotlinkNotAllowedToCertify", account=supplier.address, subjectKind=1, subject=rivals_lot
    ):
        world.send(
            "issueCertificate",
            _issue(world, subject_kind=SubjectKind.LOT, subject=rivals_lot),
            by=supplier,
        )
    with reverts(
        "LotlinkNotAllowedToCertify",
        account=supplier.address,
        subjectKind=0,
        subject=carrier_subject,
    ):
        world.send(
            "issueCertificate",
            _issue(world, subject_kind=SubjectKind.ACTOR, subject=carrier_subject),
            by=supplier,
        )


def test_carriers_regulators_and_anchorers_do_not_certify(world: World) -> None:
    key = world.register_lot(GTIN, "C-3")
    for role in (Role.CARRIER, Role.REGULATOR, Role.ANCHORER, Role.ADMIN):
        account = world.actors[role]
        with reverts("LotlinkNotAllowedToCertify", account=account.address):
            world.send(
                "issueCertificate",
                _issue(world, subject_kind=SubjectKind.LOT, subject=key),
                by=account,
            )


def test_the_subject_must_exist(world: World) -> None:
    certifier = world.actors[Role.CERTIFIER]
    ghost_lot = b"\x33" * 32
    with reverts("LotlinkUnknownLot", lotKey=ghost_lot):
        world.send(
            "issueCertificate",
            _issue(world, subject_kind=SubjectKind.LOT, subject=ghost_lot),
            by=certifier,
        )
    ghost = Account.create().address
    with reverts("LotlinkUnknownActor", account=ghost):
        world.send(
            "issueCertificate",
            _issue(world, subject_kind=SubjectKind.ACTOR, subject=_actor_subject(ghost)),
            by=certifier,
        )


def test_an_empty_validity_window_is_rejected(world: World) -> None:
    key = world.register_lot(GTIN, "C-4")
    with reverts("LotlinkInvalidValidity", validFrom=500, validUntil=500):
        world.send(
            "issueCertificate",
            _issue(
                world, subject_kind=SubjectKind.LOT, subject=key, valid_from=500, valid_until=500
            ),
            by=world.actors[Role.CERTIFIER],
        )


def test_the_same_certificate_cannot_be_issued_twice(world: World) -> None:
    key = world.register_lot(GTIN, "C-5")
    issue = _issue(world, subject_kind=SubjectKind.LOT, subject=key)
    receipt = world.send("issueCertificate", issue, by=world.actors[Role.CERTIFIER])
    certificate_id = world.lotlink.events(receipt, "CertificateIssued")[0]["certificateId"]
    with reverts("LotlinkDuplicateCertificate", certificateId=certificate_id):
        world.send("issueCertificate", issue, by=world.actors[Role.CERTIFIER])


def test_only_the_issuer_revokes_and_only_once(world: World) -> None:
    certifier, inspector = world.actors[Role.CERTIFIER], world.actors[Role.INSPECTOR]
    key = world.register_lot(GTIN, "C-6")
    receipt = world.send(
        "issueCertificate", _issue(world, subject_kind=SubjectKind.LOT, subject=key), by=certifier
    )
    certificate_id = world.lotlink.events(receipt, "CertificateIssued")[0]["certificateId"]
    with reverts(
        "LotlinkNotCertificateIssuer", certificateId=certificate_id, account=inspector.address
    ):
        world.send("revokeCertificate", certificate_id, bytes(32), by=inspector)
    receipt = world.send("revokeCertificate", certificate_id, b"\x09" * 32, by=certifier)
    assert world.lotlink.events(receipt, "CertificateRevoked") == [
        {"certificateId": certificate_id, "revoker": certifier.address, "reasonHash": b"\x09" * 32}
    ]
    assert not world.lotlink.call("isCertificateValid", certificate_id)
    with reverts("LotlinkCertificateAlreadyRevoked", certificateId=certificate_id):
        world.send("revokeCertificate", certificate_id, bytes(32), by=certifier)
    with reverts("LotlinkUnknownCertificate", certificateId=b"\x02" * 32):
        world.send("revokeCertificate", b"\x02" * 32, bytes(32), by=certifier)
