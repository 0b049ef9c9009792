"""POST /epcis/capture: EPCIS 2.0 documents validated by GS1's schema, stored like checkpoints."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fixtures.writepath import Party, WritePath, gln, gtin
from lotlink.chain.typed_data import sign_typed
from lotlink.epcis.build import CONTEXT, digest_of, previous_ids
from lotlink.services.checkpoints import checkpoint_message
from lotlink.vocabulary import CheckpointKind, Role


def document(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2025-03-01T10:00:00.000Z",
        "epcisBody": {"eventList": list(events)},
    }


def observe(lot: dict[str, Any], step: str, disposition: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": "2025-03-01T09:30:00.000+01:00",
        "eventTimeZoneOffset": "+01:00",
        "action": "OBSERVE",
        "quantityList": [{"epcClass": lot["digital_link"], "quantity": 5, "uom": "KGM"}],
        "bizStep": step,
        "disposition": disposition,
        "readPoint": {"id": f"https://id.gs1.org/414/{gln(950)}"},
        **extra,
    }


@pytest.fixture
def supplier(write_path: WritePath) -> Party:
    return write_path.actor(Role.SUPPLIER)


@pytest.fixture
def lot(write_path: WritePath, supplier: Party) -> dict[str, Any]:
    return write_path.lot(supplier, gtin(31), "CAP-1")


def capture(write_path: WritePath, party: Party, body: Any, **headers: str) -> Any:
    return write_path.client.post("/epcis/capture", json=body, headers={**party.headers, **headers})


def test_a_document_is_captured_all_events_chained(
    write_path: WritePath, supplier: Party, lot: dict[str, Any]
) -> None:
    body = document(
        observe(lot, "inspecting", "conformant"),
        observe(lot, "shipping", "in_transit", eventTime="2025-03-01T11:00:00.000+01:00"),
    )
    response = capture(write_path, supplier, body)
    assert response.status_code == 201, response.text
    first, second = response.json()["checkpoints"]
    assert (first["kind"], second["kind"]) == ("inspected", "shipped")
    assert first["event"]["lotlink:previous"] == []
    assert second["event"]["lotlink:previous"] == [first["event_id"]]
    again = capture(write_path, supplier, body)
    assert again.status_code == 201  # without lotlink:previous, each capture is a new record
    head = write_path.client.get(f"/api/v1/lots/{lot['lot_key']}").json()["head_digest"]
    stated = document(observe(lot, "receiving", "in_progress", **{"lotlink:previous": [head]}))
    created = capture(write_path, supplier, stated)
    assert created.status_code == 201
    repeated = capture(write_path, supplier, stated)
    assert repeated.status_code == 200 and repeated.json()["existing"] == 1
    assert repeated.json()["checkpoints"] == created.json()["checkpoints"]


def test_a_schema_error_names_the_json_path_and_stores_nothing(
    write_path: WritePath, supplier: Party, lot: dict[str, Any]
) -> None:
    before = write_path.counts()
    good = observe(lot, "inspecting", "conformant")
    broken = copy.deepcopy(good)
    del broken["action"]
    response = capture(write_path, supplier, document(good, broken))
    assert response.status_code == 422
    assert response.json()["field"] == "$.epcisBody.eventList[1].action"
    bad_time = observe(lot, "inspecting", "conformant", eventTime="2025-03-01T09:30:00+01:00")
    response = capture(write_path, supplier, document(good, bad_time))
    assert response.status_code == 422
    assert response.json()["field"] == "$.epcisBody.eventList[1].eventTime"
    unknown = observe(
        {"digital_link": f"https://id.gs1.org/01/{gtin(32)}/10/NOPE"}, "inspecting", "conformant"
    )
    response = capture(write_path, supplier, document(good, unknown))
    assert response.status_code == 422
    assert response.json()["field"] == "$.epcisBody.eventList[1].quantityList[0].epcClass"
    not_json = write_path.client.post(
        "/epcis/capture",
        content=b"{",
        headers={**supplier.headers, "Content-Type": "application/json"},
    )
    assert not_json.status_code == 422 and not_json.json()["field"] == "$"
    assert write_path.counts() == before


def test_capture_checks_roles_and_signatures(write_path: WritePath, lot: dict[str, Any]) -> None:
    carrier = write_path.actor(Role.CARRIER, custodial=False)
    event = observe(lot, "inspecting", "conformant")
    before = write_path.counts()
    assert capture(write_path, carrier, document(event)).status_code == 403
    shipped = observe(lot, "shipping", "in_transit", **{"lotlink:previous": []})
    unsigned = capture(write_path, carrier, document(shipped))
    assert unsigned.status_code == 422 and unsigned.json()["field"] == "signature"
    digest = digest_of(shipped)
    message = checkpoint_message(digest, lot["lot_key"], CheckpointKind.SHIPPED)
    domain = write_path.chain.contract.domain
    foreign = sign_typed(write_path.world.stranger, "Checkpoint", message, domain)
    refused = capture(
        write_path, carrier, document(shipped), **{"Lotlink-Signature": "0x" + foreign.hex()}
    )
    assert refused.status_code == 422
    assert write_path.counts() == before
    own = sign_typed(carrier.account, "Checkpoint", message, domain)
    accepted = capture(
        write_path, carrier, document(shipped), **{"Lotlink-Signature": "0x" + own.hex()}
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["checkpoints"][0]["digest"] == "0x" + digest.hex()
    assert previous_ids([]) == []


def test_stated_chains_are_checked_under_the_lock_and_repeats_answered_with_the_record(
    write_path: WritePath, lot: dict[str, Any]
) -> None:
    """Events whose client stated their predecessors are hashed and their signatures checked
    before the lot is locked; what they are checked against (the head, what is stored) is read
    under the lock."""
    carrier = write_path.actor(Role.CARRIER, custodial=False)
    domain = write_path.chain.contract.domain

    def signed(event: dict[str, Any], kind: CheckpointKind, by: Any) -> str:
        message = checkpoint_message(digest_of(event), lot["lot_key"], kind)
        return "0x" + sign_typed(by, "Checkpoint", message, domain).hex()

    shipped = observe(lot, "shipping", "in_transit", **{"lotlink:previous": []})
    own = signed(shipped, CheckpointKind.SHIPPED, carrier.account)
    # The same event twice in one document is stored once.
    twice = capture(
        write_path, carrier, document(shipped, shipped), **{"Lotlink-Signature": f"{own},{own}"}
    )
    assert twice.status_code == 201, twice.text
    assert (twice.json()["created"], twice.json()["existing"]) == (1, 1)
    first, second = twice.json()["checkpoints"]
    assert first == second and first["digest"] == "0x" + digest_of(shipped).hex()
    # A repeat is answered with the stored record, whatever signature came with it this time.
    foreign = signed(shipped, CheckpointKind.SHIPPED, write_path.world.stranger)
    repeat = capture(write_path, carrier, document(shipped), **{"Lotlink-Signature": foreign})
    assert repeat.status_code == 200 and repeat.json()["checkpoints"] == [first]
    # A new event chained after the old head is refused, naming the head it missed.
    before = write_path.counts()
    late = observe(lot, "receiving", "in_progress", **{"lotlink:previous": []})
    refused = capture(
        write_path,
        carrier,
        document(late),
        **{"Lotlink-Signature": signed(late, CheckpointKind.RECEIVED, carrier.account)},
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["head"] == first["digest"]
    # A wrong signature on a new event is still refused, and nothing was written meanwhile.
    chained = observe(lot, "receiving", "in_progress", **{"lotlink:previous": [first["digest"]]})
    forged = signed(chained, CheckpointKind.RECEIVED, write_path.world.stranger)
    wrong = capture(write_path, carrier, document(chained), **{"Lotlink-Signature": forged})
    assert wrong.status_code == 422 and wrong.json()["field"] == "signature"
    assert write_path.counts() == before
