"""Complaint alerts end to end: consumers' reports through the scan page's form raise an alert
that the lot's supplier and the regulator see (and nobody else), signed webhooks reach a real
receiver that verifies them (with retries after a refusal), and escalation issues the recall on
chain in one step and links it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from alerts.receiver import Receiver, running_receiver
from fixtures.writepath import Party, WritePath, gtin
from lotlink.gs1.digital_link import DigitalLink
from lotlink.models import DeliveryState, WebhookDelivery
from lotlink.services.webhook_delivery import RETRY_SCHEDULE, deliver_due, start_deliverer
from lotlink.vocabulary import Role

FORMULA = gtin(701)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def register_hook(wp: WritePath, party: Party, receiver: Receiver, path: str) -> dict[str, Any]:
    response = wp.client.post(
        "/api/v1/webhooks", json={"url": receiver.url + path}, headers=party.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert created["secret"].startswith("whsec_")
    receiver.secrets[path] = created["secret"]
    return created


def shipped_lot(wp: WritePath, plant: Party, carrier: Party, code: str) -> dict[str, Any]:
    lot = wp.lot(plant, FORMULA, code, product_name="Infant formula", quantity=1000, unit="H87")
    response = wp.client.post(
        f"/api/v1/lots/{lot['lot_key']}/checkpoints",
        json={
            "kind": "shipped",
            "time": "2026-11-01T08:00:00.000+01:00",
            "quantity": 1000,
            "unit": "H87",
            "destinations": [{"gln": "9521234000006"}],
        },
        headers=carrier.headers,
    )
    assert response.status_code == 201, response.text
    return lot


def complain(wp: WritePath, lot: dict[str, Any], times: int) -> None:
    link = DigitalLink(gtin=lot["gtin"], lot=lot["lot_code"]).path
    for i in range(times):
        response = wp.client.post(
            "/report",
            params={"link": link},
            data={"category": "illness_or_injury", "description": f"Baby sick after feed {i}"},
        )
        assert response.status_code == 200, response.text


def test_complaints_raise_an_alert_for_supplier_and_regulator_with_signed_webhooks(
    write_path: WritePath, receiver: Receiver
) -> None:
    wp = write_path
    plant = wp.actor(Role.SUPPLIER, name="Plant")
    other = wp.actor(Role.SUPPLIER, name="Another supplier")
    carrier = wp.actor(Role.CARRIER)
    regulator = wp.actor(Role.REGULATOR, name="Authority")
    register_hook(wp, plant, receiver, "/plant")
    register_hook(wp, regulator, receiver, "/authority")
    register_hook(wp, other, receiver, "/other")
    lot = shipped_lot(wp, plant, carrier, "F-ALERT")
    quiet = shipped_lot(wp, plant, carrier, "F-QUIET")
    complain(wp, quiet, 1)

    complain(wp, lot, 3)  # 1,000 units at the prior rate expect 0.1

    alerts = wp.client.get("/api/v1/alerts", headers=plant.headers).json()
    assert {a["rule"] for a in alerts} == {"poisson_rate", "burst"}
    rate = next(a for a in alerts if a["rule"] == "poisson_rate")
    assert rate["lot_key"] == lot["lot_key"] and rate["lot_code"] == "F-ALERT"
    assert rate["state"] == "open" and rate["supplier"] == plant.address
    assert 0 < rate["p_value"] < 0.001 and rate["statistic"]["complaints"] == 3
    assert rate["links"]["trace"] == f"/api/v1/lots/{lot['lot_key']}/trace"
    assert wp.client.get(rate["links"]["trace"]).status_code == 200
    seen_by_regulator = wp.client.get("/api/v1/alerts", headers=regulator.headers).json()
    assert {a["id"] for a in seen_by_regulator} == {a["id"] for a in alerts}
    assert wp.client.get("/api/v1/alerts", headers=other.headers).json() == []
    hidden = wp.client.get(f"/api/v1/alerts/{rate['id']}", headers=other.headers)
    assert hidden.status_code == 404 and hidden.json()["title"] == "AlertNotFoundError"
    assert wp.client.get("/api/v1/alerts").status_code == 401

    receiver.statuses = [503]  # the first message anyone receives is refused once
    first = deliver_due(wp.sessions)
    assert sum(not a.accepted for a in first) == 1 and len(first) == 4  # 2 alerts x 2 recipients
    later = datetime.now(UTC) + timedelta(seconds=RETRY_SCHEDULE[0] + 1)
    assert len(deliver_due(wp.sessions, now=later)) == 1
    with wp.session() as session:
        states = session.scalars(select(WebhookDelivery.state)).all()
    assert states == [DeliveryState.DELIVERED] * 4

    assert all(r.verified for r in receiver.received)
    for path in ("/plant", "/authority"):
        opened = receiver.verified(path)
        assert sorted(p["data"]["rule"] for p in opened) == ["burst", "poisson_rate"]
        assert {p["type"] for p in opened} == {"alert.opened"}
    assert receiver.verified("/other") == []
    retried = [
        r
        for r in receiver.received
        if r.headers["webhook-id"] == receiver.received[0].headers["webhook-id"]
        and r.path == receiver.received[0].path
    ]
    assert len(retried) == 2  # the refused message came again with the same id

    acknowledged = wp.client.post(f"/api/v1/alerts/{rate['id']}/acknowledge", headers=plant.headers)
    assert acknowledged.status_code == 200 and acknowledged.json()["state"] == "acknowledged"
    assert acknowledged.json()["acknowledged_by"] == plant.address


def test_a_tampered_signature_is_refused_by_the_receiver(
    write_path: WritePath, receiver: Receiver
) -> None:
    wp = write_path
    plant = wp.actor(Role.SUPPLIER)
    carrier = wp.actor(Role.CARRIER)
    register_hook(wp, plant, receiver, "/plant")
    receiver.secrets["/plant"] = "whsec_" + "A" * 43 + "="  # not the secret it was given
    complain(wp, shipped_lot(wp, plant, carrier, "F-SIG"), 3)

    attempts = deliver_due(wp.sessions)

    assert attempts and all(a.status == 401 for a in attempts)
    assert receiver.received and not any(r.verified for r in receiver.received)


def test_escalating_an_alert_issues_the_recall_on_chain_and_links_it(
    write_path: WritePath, receiver: Receiver
) -> None:
    wp = write_path
    plant = wp.actor(Role.SUPPLIER)
    carrier = wp.actor(Role.CARRIER)
    regulator = wp.actor(Role.REGULATOR)
    register_hook(wp, regulator, receiver, "/authority")
    lot = shipped_lot(wp, plant, carrier, "F-RECALL")
    complain(wp, lot, 3)
    (alert,) = wp.client.get(
        "/api/v1/alerts", params={"state": "open", "lot": lot["lot_key"]},
        headers=regulator.headers,
    ).json()[:1]  # fmt: skip
    wording = {
        "recall_class": 1,
        "reason": "Illness reported after feeding lot F-RECALL.",
        "consumer_instructions": "Do not use; return it to the shop.",
        "trade_instructions": "Withdraw the lot from sale.",
    }

    refused = wp.client.post(
        f"/api/v1/alerts/{alert['id']}/escalate", json=wording, headers=carrier.headers
    )
    assert refused.status_code == 404  # a carrier does not see the alert at all

    escalated = wp.client.post(
        f"/api/v1/alerts/{alert['id']}/escalate", json=wording, headers=regulator.headers
    )
    assert escalated.status_code == 200, escalated.text
    body = escalated.json()
    assert body["state"] == "escalated" and body["escalated_by"] == regulator.address
    recall_id = body["recall_id"]
    assert body["links"]["recall"] == f"/api/v1/recalls/{recall_id}"
    on_chain = wp.chain.contract.call("recallOf", recall_id)
    assert on_chain[0].lower() == regulator.address.lower()  # the issuer
    assert ["0x" + bytes(k).hex() for k in wp.chain.contract.call("recallLots", recall_id)] == [
        lot["lot_key"]
    ]
    recall = wp.client.get(body["links"]["recall"]).json()
    assert recall["reason"] == wording["reason"] and recall["recall_class"] == 1
    status = wp.client.get(f"/api/v1/lots/{lot['lot_key']}/recall-status").json()
    assert status["recalled"] is True

    again = wp.client.post(
        f"/api/v1/alerts/{alert['id']}/escalate", json=wording, headers=regulator.headers
    )
    assert again.status_code == 409 and "escalated" in again.json()["detail"]
    deliver_due(wp.sessions)
    types = [p["type"] for p in receiver.verified("/authority")]
    assert types.count("alert.opened") == 2 and types[-1] == "alert.escalated"
    assert receiver.verified("/authority")[-1]["data"]["recall_id"] == recall_id


def test_alert_inputs_are_checked(write_path: WritePath) -> None:
    wp = write_path
    plant = wp.actor(Role.SUPPLIER)
    bad_url = wp.client.post(
        "/api/v1/webhooks", json={"url": "ftp://example.org/x"}, headers=plant.headers
    )
    assert bad_url.status_code == 422 and bad_url.json()["field"] == "url"
    secret_in_url = wp.client.post(
        "/api/v1/webhooks", json={"url": "https://u:p@example.org/x"}, headers=plant.headers
    )
    assert secret_in_url.status_code == 422
    assert (
        wp.client.post("/api/v1/alerts/999/acknowledge", headers=plant.headers).status_code == 404
    )
    bad_state = wp.client.get("/api/v1/alerts", params={"state": "sleeping"}, headers=plant.headers)
    assert bad_state.status_code == 422
    assert wp.client.delete("/api/v1/webhooks/999", headers=plant.headers).status_code == 404
    for path in ("/api/v1/alerts", "/api/v1/reports"):
        bad_lot = wp.client.get(path, params={"lot": "0x12"}, headers=plant.headers)
        assert bad_lot.status_code == 422 and bad_lot.json()["errors"][0]["field"] == "query.lot"


def test_a_refused_message_is_retried_on_schedule_then_given_up(
    write_path: WritePath, receiver: Receiver
) -> None:
    wp = write_path
    plant = wp.actor(Role.SUPPLIER)
    carrier = wp.actor(Role.CARRIER)
    register_hook(wp, plant, receiver, "/plant")
    complain(wp, shipped_lot(wp, plant, carrier, "F-GIVEUP"), 3)
    receiver.statuses = [500] * 100

    moment = datetime.now(UTC)
    assert len(deliver_due(wp.sessions, now=moment)) == 2  # both alerts, refused
    for wait in RETRY_SCHEDULE:
        assert deliver_due(wp.sessions, now=moment + timedelta(seconds=wait - 1)) == []
        moment += timedelta(seconds=wait)
        assert len(deliver_due(wp.sessions, now=moment)) == 2
    assert deliver_due(wp.sessions, now=moment + timedelta(days=30)) == []
    with wp.session() as session:
        deliveries = session.scalars(select(WebhookDelivery)).all()
    assert {(d.state, d.attempts, d.last_status) for d in deliveries} == {
        (DeliveryState.FAILED, len(RETRY_SCHEDULE) + 1, 500)
    }


def test_the_service_delivers_queued_messages_in_the_background(
    write_path: WritePath, receiver: Receiver
) -> None:
    wp = write_path
    plant = wp.actor(Role.SUPPLIER)
    carrier = wp.actor(Role.CARRIER)
    register_hook(wp, plant, receiver, "/plant")
    complain(wp, shipped_lot(wp, plant, carrier, "F-BACKGROUND"), 3)

    deliverer = start_deliverer(wp.settings, wp.sessions.kw["bind"])
    try:
        deadline = time.monotonic() + 30
        while len(receiver.verified("/plant")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        deliverer.stop()
    assert sorted(p["data"]["rule"] for p in receiver.verified("/plant")) == [
        "burst",
        "poisson_rate",
    ]


def test_the_lots_supplier_escalates_to_a_voluntary_recall(write_path: WritePath) -> None:
    wp = write_path
    plant = wp.actor(Role.SUPPLIER)
    carrier = wp.actor(Role.CARRIER)
    lot = shipped_lot(wp, plant, carrier, "F-VOLUNTARY")
    complain(wp, lot, 3)
    alerts = wp.client.get("/api/v1/alerts", headers=plant.headers).json()
    burst = next(a for a in alerts if a["rule"] == "burst")
    wording = {"recall_class": 2, "reason": "Foreign matter reported in lot F-VOLUNTARY."}

    escalated = wp.client.post(
        f"/api/v1/alerts/{burst['id']}/escalate", json=wording, headers=plant.headers
    )

    assert escalated.status_code == 200, escalated.text
    recall = wp.client.get(escalated.json()["links"]["recall"]).json()
    assert recall["voluntary"] is True and recall["issuer"] == plant.address
    assert [item["lot_code"] for item in recall["lots"]] == ["F-VOLUNTARY"]


def test_a_refused_escalation_leaves_the_alert_as_it_was(write_path: WritePath) -> None:
    """A regulator holding its own key must sign the recall; unsigned, the chain write is
    refused before it is sent, and the alert is not left claimed as escalated."""
    wp = write_path
    plant = wp.actor(Role.SUPPLIER)
    carrier = wp.actor(Role.CARRIER)
    regulator = wp.actor(Role.REGULATOR, custodial=False)
    complain(wp, shipped_lot(wp, plant, carrier, "F-UNSIGNED"), 3)
    (alert, *_) = wp.client.get("/api/v1/alerts", headers=regulator.headers).json()

    refused = wp.client.post(
        f"/api/v1/alerts/{alert['id']}/escalate",
        json={"recall_class": 1, "reason": "Unsigned"},
        headers=regulator.headers,
    )

    assert refused.status_code == 422 and refused.json()["field"] == "authorization"
    after = wp.client.get(f"/api/v1/alerts/{alert['id']}", headers=regulator.headers).json()
    assert after["state"] == "open" and after["escalated_at"] is None and after["recall_id"] is None
