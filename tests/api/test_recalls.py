"""Recalls over the API: regulators recall any lot, owners their own; the wording is bound to the
chain by its hash; updates and closing by the issuer or a regulator; bad input writes nothing."""

from __future__ import annotations

import json

from eth_utils import keccak

from fixtures.writepath import WritePath, gtin
from lotlink.models import Recall
from lotlink.vocabulary import Role

WORDING = {
    "recall_class": 1,
    "reason": "Cronobacter sakazakii found in a retained sample",
    "consumer_instructions": "Do not use. Return the tin to the shop for a refund.",
    "trade_instructions": "Withdraw from sale; quarantine stock; report quantities.",
}


def _recalls(write_path: WritePath) -> int:
    with write_path.session() as session:
        return session.query(Recall).count()


def test_a_regulator_recalls_lots_and_the_wording_is_bound_to_the_chain(
    write_path: WritePath,
) -> None:
    supplier, regulator = write_path.actor(Role.SUPPLIER), write_path.actor(Role.REGULATOR)
    first = write_path.lot(supplier, gtin(31), "IF-A")
    write_path.lot(supplier, gtin(31), "IF-B")
    body = {
        **WORDING,
        "lots": [{"lot_key": first["lot_key"]}, {"gtin": gtin(31), "lot_code": "IF-B"}],
    }
    response = write_path.client.post("/api/v1/recalls", json=body, headers=regulator.headers)
    assert response.status_code == 201, response.text
    recall = response.json()
    assert (
        recall["status"] == "active"
        and recall["voluntary"] is False
        and recall["recall_class"] == 1
    )
    assert [lot["lot_code"] for lot in recall["lots"]] == ["IF-A", "IF-B"]
    canonical = json.dumps(
        {
            "consumer": WORDING["consumer_instructions"],
            "reason": WORDING["reason"],
            "trade": WORDING["trade_instructions"],
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert recall["reason_hash"] == "0x" + keccak(canonical.encode()).hex()
    on_chain = write_path.world.lotlink.call("recallOf", recall["recall_id"])
    assert on_chain[5] == keccak(canonical.encode()) and on_chain[0] == regulator.address
    assert (
        write_path.world.lotlink.call("activeRecallCount", bytes.fromhex(first["lot_key"][2:])) == 1
    )
    assert [r["recall_id"] for r in write_path.client.get("/api/v1/recalls").json()] == [
        recall["recall_id"]
    ]
    assert write_path.client.get(f"/api/v1/recalls/{recall['recall_id']}").json() == recall


def test_an_owner_recalls_its_own_lot_voluntarily_but_not_anothers(write_path: WritePath) -> None:
    supplier, rival = write_path.actor(Role.SUPPLIER), write_path.actor(Role.SUPPLIER)
    own = write_path.lot(supplier, gtin(32), "OWN")
    theirs = write_path.lot(rival, gtin(32), "THEIRS")
    voluntary = write_path.client.post(
        "/api/v1/recalls",
        json={**WORDING, "recall_class": 2, "lots": [{"lot_key": own["lot_key"]}]},
        headers=supplier.headers,
    )
    assert voluntary.status_code == 201 and voluntary.json()["voluntary"] is True
    before = _recalls(write_path)
    refused = write_path.client.post(
        "/api/v1/recalls",
        json={**WORDING, "lots": [{"lot_key": theirs["lot_key"]}]},
        headers=supplier.headers,
    )
    assert refused.status_code == 403 and "does not own" in refused.json()["detail"]
    assert _recalls(write_path) == before


def test_bad_input_is_refused_and_nothing_is_written(write_path: WritePath) -> None:
    supplier, regulator, carrier = (
        write_path.actor(r) for r in (Role.SUPPLIER, Role.REGULATOR, Role.CARRIER)
    )
    lot = write_path.lot(supplier, gtin(33), "BAD")
    before = _recalls(write_path)
    for party, body, status, words in [
        (carrier, {**WORDING, "lots": [{"lot_key": lot["lot_key"]}]}, 403, "regulator or supplier"),
        (
            regulator,
            {**WORDING, "recall_class": 4, "lots": [{"lot_key": lot["lot_key"]}]},
            422,
            "recall_class",
        ),
        (regulator, {**WORDING, "lots": []}, 422, "lots"),
        (
            regulator,
            {**WORDING, "reason": "", "lots": [{"lot_key": lot["lot_key"]}]},
            422,
            "reason",
        ),
        (regulator, {**WORDING, "lots": [{"lot_key": "0x" + "12" * 32}]}, 404, "lots.0"),
        (
            regulator,
            {
                **WORDING,
                "lots": [{"lot_key": lot["lot_key"]}, {"gtin": gtin(33), "lot_code": "BAD"}],
            },
            422,
            "named twice",
        ),
        (regulator, {**WORDING, "lots": [{"gtin": gtin(33)}]}, 422, "gtin and lot_code"),
    ]:
        response = write_path.client.post("/api/v1/recalls", json=body, headers=party.headers)
        assert response.status_code == status, (body, response.text)
        assert words in response.text
    assert _recalls(write_path) == before
    assert write_path.client.get("/api/v1/recalls/999").status_code == 404


def test_updates_and_closing_by_the_issuer_or_a_regulator(write_path: WritePath) -> None:
    supplier, regulator, other = (
        write_path.actor(Role.SUPPLIER),
        write_path.actor(Role.REGULATOR),
        write_path.actor(Role.SUPPLIER),
    )
    lot = write_path.lot(supplier, gtin(34), "UPD")
    recall = write_path.client.post(
        "/api/v1/recalls",
        json={**WORDING, "recall_class": 3, "lots": [{"lot_key": lot["lot_key"]}]},
        headers=supplier.headers,
    ).json()
    base = f"/api/v1/recalls/{recall['recall_id']}"
    assert (
        write_path.client.post(
            f"{base}/update", json={**WORDING, "recall_class": 2}, headers=other.headers
        ).status_code
        == 403
    )
    escalated = write_path.client.post(
        f"{base}/update",
        json={**WORDING, "recall_class": 1, "reason": "illness reported"},
        headers=regulator.headers,
    )
    assert escalated.status_code == 200, escalated.text
    assert (
        escalated.json()["recall_class"] == 1 and escalated.json()["reason"] == "illness reported"
    )
    closed = write_path.client.post(
        f"{base}/close", json={"reason": "stock destroyed"}, headers=supplier.headers
    )
    assert (
        closed.status_code == 200
        and closed.json()["status"] == "closed"
        and closed.json()["closed_at"]
    )
    # The closing words are kept, beside the hash the chain's RecallClosed log carries.
    on_chain = write_path.world.lotlink.contract.events.RecallClosed().get_logs(
        from_block=0, argument_filters={"recallId": recall["recall_id"]}
    )
    assert [log["args"]["reasonHash"] for log in on_chain] == [keccak(text="stock destroyed")]
    for shown in (closed.json(), write_path.client.get(base).json()):
        assert shown["closed_reason"] == "stock destroyed"
        assert shown["closed_reason_hash"] == "0x" + keccak(text="stock destroyed").hex()
    assert recall["closed_reason"] is None and recall["closed_reason_hash"] is None
    assert write_path.client.get("/api/v1/recalls").json() == []
    assert [
        r["recall_id"]
        for r in write_path.client.get("/api/v1/recalls", params={"include_closed": True}).json()
    ] == [recall["recall_id"]]
    again = write_path.client.post(
        f"{base}/close", json={"reason": "again"}, headers=regulator.headers
    )
    assert again.status_code == 422 and "closed" in again.json()["detail"]
