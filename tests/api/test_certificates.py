"""Certificates over the API: issued on chain by their issuer, checked by who may certify what,
revoked by the issuer alone; bad input writes nothing."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from eth_account import Account

from fixtures.writepath import Party, WritePath, gtin
from lotlink.models import Certificate
from lotlink.vocabulary import Role


def _upload(write_path: WritePath, party: Party) -> str:
    pdf = b"%PDF-1.7\n% certificate of analysis " + os.urandom(8) + b"\n%%EOF\n"
    response = write_path.client.post(
        "/api/v1/documents", files={"file": ("coa.pdf", pdf)}, headers=party.headers
    )
    assert response.status_code == 201, response.text
    return hashlib.sha256(pdf).hexdigest()


def _form(document: str, **subject: Any) -> dict[str, Any]:
    until = datetime.now(UTC) + timedelta(days=365)
    return {
        "kind": "certificate_of_analysis",
        "document": document,
        "valid_until": until.isoformat(),
        **subject,
    }


def _certificates(write_path: WritePath) -> int:
    with write_path.session() as session:
        return session.query(Certificate).count()


def test_a_lab_certifies_a_lot_and_anyone_can_read_and_check_it(write_path: WritePath) -> None:
    supplier, lab = write_path.actor(Role.SUPPLIER), write_path.actor(Role.CERTIFIER)
    lot = write_path.lot(supplier, gtin(21), "IF-1")
    document = _upload(write_path, lab)
    response = write_path.client.post(
        "/api/v1/certificates", json=_form(document, lot_key=lot["lot_key"]), headers=lab.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["issuer"] == lab.address and body["subject"] == lot["lot_key"]
    assert body["subject_kind"] == "lot" and body["kind"] == "certificate_of_analysis"
    assert body["document"] == "0x" + document and body["validity"] == "valid"
    certificate_id = bytes.fromhex(body["certificate_id"][2:])
    assert write_path.world.lotlink.call("isCertificateValid", certificate_id)
    assert write_path.world.lotlink.call("certificateOf", certificate_id)[7] == bytes.fromhex(
        document
    )
    assert write_path.client.get(f"/api/v1/certificates/{body['certificate_id']}").json() == body
    listed = write_path.client.get("/api/v1/certificates", params={"subject": lot["lot_key"]})
    assert [c["certificate_id"] for c in listed.json()] == [body["certificate_id"]]


def test_a_supplier_self_declares_only_about_itself_and_its_own_lots(write_path: WritePath) -> None:
    supplier, rival = write_path.actor(Role.SUPPLIER), write_path.actor(Role.SUPPLIER)
    own = write_path.lot(supplier, gtin(22), "OWN-1")
    theirs = write_path.lot(rival, gtin(22), "THEIRS-1")
    document = _upload(write_path, supplier)
    for subject in ({"lot_key": own["lot_key"]}, {"actor": supplier.address}):
        response = write_path.client.post(
            "/api/v1/certificates",
            json={**_form(document, **subject), "kind": "iso9001"},
            headers=supplier.headers,
        )
        assert response.status_code == 201, response.text
    before = _certificates(write_path)
    refused = write_path.client.post(
        "/api/v1/certificates",
        json=_form(document, gtin=gtin(22), lot_code="THEIRS-1"),
        headers=supplier.headers,
    )
    assert refused.status_code == 403, refused.text
    assert "certify" in refused.json()["detail"] and theirs["lot_key"]
    assert _certificates(write_path) == before


def test_roles_and_bad_input_are_refused_and_nothing_is_written(write_path: WritePath) -> None:
    supplier, lab, carrier = (
        write_path.actor(r) for r in (Role.SUPPLIER, Role.CERTIFIER, Role.CARRIER)
    )
    lot = write_path.lot(supplier, gtin(23), "BAD-1")
    document = _upload(write_path, lab)
    before = _certificates(write_path)
    cases = [
        (
            carrier,
            _form(document, lot_key=lot["lot_key"]),
            403,
            "certifier or inspector or supplier",
        ),
        (lab, _form("ab" * 32, lot_key=lot["lot_key"]), 422, "document"),
        (lab, _form(document, lot_key="0x" + "11" * 32), 404, "lot"),
        (lab, _form(document, actor=Account.create().address), 404, "no actor"),
        (
            lab,
            {**_form(document, lot_key=lot["lot_key"]), "valid_until": "2001-01-01T00:00:00Z"},
            422,
            "valid_until",
        ),
        (
            lab,
            _form(document, lot_key=lot["lot_key"], actor=lab.address),
            422,
            "exactly one subject",
        ),
        (lab, {**_form(document, lot_key=lot["lot_key"]), "kind": "diploma"}, 422, "kind"),
    ]
    for party, form, status, words in cases:
        response = write_path.client.post("/api/v1/certificates", json=form, headers=party.headers)
        assert response.status_code == status, (form, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert words in response.text, response.text
    assert _certificates(write_path) == before
    response = write_path.client.post(
        "/api/v1/certificates", json=_form(document, lot_key=lot["lot_key"])
    )
    assert response.status_code == 401


def test_only_the_issuer_revokes_and_only_once(write_path: WritePath) -> None:
    supplier, lab, other_lab = (
        write_path.actor(Role.SUPPLIER),
        write_path.actor(Role.CERTIFIER),
        write_path.actor(Role.CERTIFIER),
    )
    lot = write_path.lot(supplier, gtin(24), "REV-1")
    form = _form(_upload(write_path, lab), lot_key=lot["lot_key"])
    issued = write_path.client.post("/api/v1/certificates", json=form, headers=lab.headers).json()
    duplicate = write_path.client.post("/api/v1/certificates", json=form, headers=lab.headers)
    assert duplicate.status_code == 409 and "issued already" in duplicate.json()["detail"]
    url = f"/api/v1/certificates/{issued['certificate_id']}/revoke"
    assert (
        write_path.client.post(url, json={"reason": "x"}, headers=other_lab.headers).status_code
        == 403
    )
    revoked = write_path.client.post(
        url, json={"reason": "sample mix-up at the lab"}, headers=lab.headers
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked"] is True and revoked.json()["validity"] == "revoked"
    assert revoked.json()["revoked_reason"] == "sample mix-up at the lab"
    assert not write_path.world.lotlink.call(
        "isCertificateValid", bytes.fromhex(issued["certificate_id"][2:])
    )
    again = write_path.client.post(url, json={"reason": "again"}, headers=lab.headers)
    assert again.status_code == 409 and "revoked already" in again.json()["detail"]
    unknown = write_path.client.post(
        f"/api/v1/certificates/0x{'22' * 32}/revoke", json={"reason": "x"}, headers=lab.headers
    )
    assert unknown.status_code == 404


def test_a_self_custody_certifier_signs_itself(write_path: WritePath) -> None:
    supplier, lab = (
        write_path.actor(Role.SUPPLIER),
        write_path.actor(Role.CERTIFIER, custodial=False),
    )
    lot = write_path.lot(supplier, gtin(25), "SELF-1")
    form = _form(_upload(write_path, lab), lot_key=lot["lot_key"])
    unsigned = write_path.client.post("/api/v1/certificates", json=form, headers=lab.headers)
    assert unsigned.status_code == 422 and "must sign issueCertificate itself" in unsigned.text
    valid_from = int(datetime.now(UTC).timestamp())
    form["valid_from"] = datetime.fromtimestamp(valid_from, UTC).isoformat()
    issue = (
        1,
        bytes.fromhex(lot["lot_key"][2:]),
        3,
        bytes.fromhex(form["document"]),
        valid_from,
        int(datetime.fromisoformat(form["valid_until"]).timestamp()),
    )
    deadline = write_path.world.now() + 600
    nonce = 5 << 64
    auth = write_path.world.lotlink.sign_write(
        "issueCertificate", issue, signer=lab.account, deadline=deadline, nonce=nonce
    )
    form["authorization"] = {
        "signature": "0x" + auth.signature.hex(),
        "nonce": nonce,
        "deadline": deadline,
    }
    signed = write_path.client.post("/api/v1/certificates", json=form, headers=lab.headers)
    assert signed.status_code == 201, signed.text
    forged = Account.create()
    auth = write_path.world.lotlink.sign_write(
        "issueCertificate", issue, signer=forged, deadline=deadline, nonce=nonce + 1
    )
    form["authorization"] = {
        "signature": "0x" + auth.signature.hex(),
        "nonce": nonce + 1,
        "deadline": deadline,
    }
    refused = write_path.client.post("/api/v1/certificates", json=form, headers=lab.headers)
    assert refused.status_code == 422 and "authorization.signature" in refused.text
