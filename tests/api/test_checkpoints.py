"""POST /api/v1/lots/{lot}/checkpoints: the plain form becomes a signed, hash-chained EPCIS
event, stored with its outbox entry; bad input is a problem naming the field, writing nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from fixtures.writepath import Party, WritePath, gln, gtin
from lotlink.chain.typed_data import recover_typed, sign_typed
from lotlink.epcis.build import stored_digest
from lotlink.models import Checkpoint, CheckpointLot, OutboxEntry
from lotlink.services.checkpoints import checkpoint_message
from lotlink.vocabulary import CheckpointKind, Role

TIME = "2025-03-01T09:30:00.120+01:00"


def url(lot: dict[str, Any]) -> str:
    return f"/api/v1/lots/{lot['gtin']}/{lot['lot_code']}/checkpoints"


def post(write_path: WritePath, party: Party, lot: dict[str, Any], **form: Any) -> Any:
    return write_path.client.post(url(lot), json={"time": TIME, **form}, headers=party.headers)


@pytest.fixture
def supplier(write_path: WritePath) -> Party:
    return write_path.actor(Role.SUPPLIER)


@pytest.fixture
def lot(write_path: WritePath, supplier: Party) -> dict[str, Any]:
    return write_path.lot(supplier, gtin(11), "CHAIN-1", quantity=400)


def test_a_checkpoint_is_stored_signed_and_queued(
    write_path: WritePath, supplier: Party, lot: dict[str, Any]
) -> None:
    response = post(write_path, supplier, lot, kind="produced", quantity=400, unit="KGM")
    assert response.status_code == 201, response.text
    body = response.json()
    event = body["event"]
    assert event["type"] == "ObjectEvent" and event["action"] == "ADD"
    assert event["bizStep"] == "commissioning" and event["disposition"] == "active"
    assert event["eventTime"] == TIME and event["eventTimeZoneOffset"] == "+01:00"
    assert event["quantityList"] == [
        {"epcClass": f"https://id.gs1.org/01/{gtin(11)}/10/CHAIN-1", "quantity": 400, "uom": "KGM"}
    ]
    assert event["lotlink:previous"] == []
    assert body["event_id"] == event["eventID"] == f"ni:///sha-256;{body['digest'][2:]}?ver=CBV2.0"
    with write_path.session() as session:
        row = session.get(Checkpoint, body["digest"])
        assert row is not None and row.status == "pending"
        assert "0x" + stored_digest(row.epcis_json).hex() == row.digest
        assert session.scalar(select(OutboxEntry).where(OutboxEntry.event_digest == row.digest))
        signature = bytes.fromhex(row.signature[2:])
        message = checkpoint_message(
            bytes.fromhex(row.digest[2:]), lot["lot_key"], CheckpointKind.PRODUCED
        )
        signer = recover_typed("Checkpoint", message, write_path.chain.contract.domain, signature)
        assert signer == supplier.address == body["signer"]


def test_each_event_names_the_previous_one_of_its_lot(
    write_path: WritePath, supplier: Party, lot: dict[str, Any]
) -> None:
    first = post(write_path, supplier, lot, kind="produced").json()
    inspector = write_path.actor(Role.INSPECTOR)
    second = post(write_path, inspector, lot, kind="inspected", result="non_conformant").json()
    assert second["event"]["disposition"] == "non_conformant"
    assert second["event"]["lotlink:previous"] == [first["event_id"]]
    assert second["previous"] == {lot["lot_key"]: first["digest"]}
    head = write_path.client.get(f"/api/v1/lots/{lot['lot_key']}").json()["head_digest"]
    assert head == second["digest"]


def test_resubmitting_the_same_checkpoint_is_200_with_the_same_record(
    write_path: WritePath, supplier: Party, lot: dict[str, Any]
) -> None:
    first = post(write_path, supplier, lot, kind="produced", quantity=1, unit="KGM")
    before = write_path.counts()
    again = post(write_path, supplier, lot, kind="produced", quantity=1, unit="KGM")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    explicit = post(write_path, supplier, lot, kind="produced", quantity=1, unit="KGM", previous=[])
    assert explicit.status_code == 200 and explicit.json()["digest"] == first.json()["digest"]
    assert write_path.counts() == before


def test_a_stale_head_is_409_naming_the_current_head(
    write_path: WritePath, supplier: Party, lot: dict[str, Any]
) -> None:
    first = post(write_path, supplier, lot, kind="produced").json()
    post(write_path, supplier, lot, kind="shipped", destinations=[{"gln": gln(900)}])
    before = write_path.counts()
    stale = post(write_path, supplier, lot, kind="inspected", previous=[first["digest"]])
    assert stale.status_code == 409
    problem = stale.json()
    head = write_path.client.get(f"/api/v1/lots/{lot['lot_key']}").json()["head_digest"]
    assert problem["head"] == head and head in problem["detail"]
    assert problem["lot"] == lot["lot_key"]
    assert write_path.counts() == before


@pytest.mark.parametrize(
    ("role", "kind", "allowed"),
    [
        (Role.CARRIER, "produced", False),
        (Role.INSPECTOR, "shipped", False),
        (Role.CARRIER, "inspected", False),
        (Role.CARRIER, "received", True),
        (Role.INSPECTOR, "inspected", True),
    ],
)
def test_the_role_must_fit_the_kind(
    write_path: WritePath, lot: dict[str, Any], role: Role, kind: str, allowed: bool
) -> None:
    actor = write_path.actor(role)
    extra: dict[str, Any] = {"destinations": [{"gln": gln(901)}]} if kind == "shipped" else {}
    before = write_path.counts()
    response = post(write_path, actor, lot, kind=kind, **extra)
    if allowed:
        assert response.status_code == 201, response.text
    else:
        assert response.status_code == 403
        assert kind in response.json()["detail"]
        assert write_path.counts() == before


def test_a_self_custody_actor_signs_and_a_foreign_signature_is_refused(
    write_path: WritePath, lot: dict[str, Any]
) -> None:
    carrier = write_path.actor(Role.CARRIER, custodial=False)
    form = {"kind": "received", "sources": [{"gln": gln(902), "type": "possessing_party"}]}
    unsigned = post(write_path, carrier, lot, **form)
    assert unsigned.status_code == 422 and unsigned.json()["field"] == "signature"

    from lotlink.epcis.build import LotRef
    from lotlink.schemas.checkpoints import CheckpointCreate
    from lotlink.services.checkpoint_forms import plain_checkpoint

    me = write_path.client.get("/api/v1/me", headers=carrier.headers).json()
    plain = plain_checkpoint(
        CheckpointCreate(time=TIME, **form),  # type: ignore[arg-type]
        lot=LotRef(lot["gtin"], lot["lot_code"]),
        default_gln=me["gln"],
    )
    digest = plain.digest([])
    domain = write_path.chain.contract.domain
    message = checkpoint_message(digest, lot["lot_key"], CheckpointKind.RECEIVED)
    foreign = sign_typed(write_path.world.stranger, "Checkpoint", message, domain)
    before = write_path.counts()
    refused = post(write_path, carrier, lot, **form, previous=[], signature="0x" + foreign.hex())
    assert refused.status_code == 422 and refused.json()["field"] == "signature"
    assert write_path.world.stranger.address in refused.json()["detail"]
    assert write_path.counts() == before

    own = sign_typed(carrier.account, "Checkpoint", message, domain)
    accepted = post(write_path, carrier, lot, **form, previous=[], signature="0x" + own.hex())
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["digest"] == "0x" + digest.hex()
    assert accepted.json()["signature"] == "0x" + own.hex()


def test_a_transformation_touches_every_lot_and_chains_each(
    write_path: WritePath, supplier: Party
) -> None:
    flour = write_path.lot(supplier, gtin(12), "FLOUR")
    bread = write_path.lot(supplier, gtin(13), "BREAD")
    made = post(write_path, supplier, flour, kind="produced").json()
    response = post(
        write_path,
        supplier,
        bread,
        kind="transformed",
        quantity=800,
        unit="H87",
        inputs=[{"gtin": gtin(12), "lot_code": "FLOUR", "quantity": 120.5, "unit": "KGM"}],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["event"]["type"] == "TransformationEvent"
    assert body["previous"] == {flour["lot_key"]: made["digest"], bread["lot_key"]: None}
    with write_path.session() as session:
        links = session.scalars(
            select(CheckpointLot).where(CheckpointLot.checkpoint_digest == body["digest"])
        ).all()
        assert {(link.lot_key, link.quantity_milli) for link in links} == {
            (flour["lot_key"], 120500),
            (bread["lot_key"], 800000),
        }


@pytest.mark.parametrize(
    ("form", "status", "field"),
    [
        ({"kind": "produced", "time": "2025-03-01T09:30:00"}, 422, "time"),
        ({"kind": "produced", "time": "2025-03-01T09:30:00+15:00"}, 422, "time"),
        ({"kind": "produced", "time": "2025-03-01T09:30:00.1234+01:00"}, 422, "time"),
        ({"kind": "produced", "location": "9521234000007"}, 422, "location"),
        ({"kind": "inspected", "biz_step": "shipping"}, 422, "biz_step"),
        ({"kind": "shipped"}, 422, "destinations"),
        ({"kind": "produced", "documents": ["ab" * 32]}, 422, "documents[0]"),
        ({"kind": "produced", "signature": "0x1234"}, 422, "signature"),
        (
            {"kind": "transformed", "inputs": [{"gtin": gtin(99), "lot_code": "NO"}]},
            404,
            "inputs[0]",
        ),
    ],
)
def test_bad_checkpoints_name_the_field_and_write_nothing(
    write_path: WritePath,
    supplier: Party,
    lot: dict[str, Any],
    form: dict[str, Any],
    status: int,
    field: str,
) -> None:
    before = write_path.counts()
    response = write_path.client.post(
        url(lot), json={"time": TIME, **form}, headers=supplier.headers
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field
    assert write_path.counts() == before


def test_an_unknown_lot_and_malformed_json_are_problems(
    write_path: WritePath, supplier: Party
) -> None:
    before = write_path.counts()
    unknown = write_path.client.post(
        f"/api/v1/lots/{gtin(98)}/NOPE/checkpoints",
        json={"time": TIME, "kind": "produced"},
        headers=supplier.headers,
    )
    assert unknown.status_code == 404 and "NOPE" not in unknown.json().get("field", "")
    malformed = write_path.client.post(
        f"/api/v1/lots/{gtin(98)}/NOPE/checkpoints",
        content=b'{"kind": ',
        headers={**supplier.headers, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 422
    wrong_kind = write_path.client.post(
        f"/api/v1/lots/{gtin(98)}/NOPE/checkpoints",
        json={"time": TIME, "kind": "teleported"},
        headers=supplier.headers,
    )
    assert wrong_kind.status_code == 422
    assert wrong_kind.json()["errors"][0]["field"] == "body.kind"
    assert write_path.counts() == before
