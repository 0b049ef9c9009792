"""The signed-in pages: a supplier and a regulator see the alerts and the reports waiting for an
answer (overdue ones first and marked), and work an alert through its forms: acknowledge, a
refused escalation shown again with the input kept, an escalation that recalls the lot on
chain, and closing."""

from __future__ import annotations

from alerts.test_alerts_api import complain, shipped_lot
from fixtures.writepath import WritePath
from lotlink.vocabulary import Role
from web.test_session import client_of, hidden, sign_in


def test_alerts_and_waiting_reports_are_worked_from_the_pages(write_path: WritePath) -> None:
    wp = write_path
    plant = wp.actor(Role.SUPPLIER, name="Plant")
    carrier = wp.actor(Role.CARRIER)
    regulator = wp.actor(Role.REGULATOR, name="Authority")
    lot = shipped_lot(wp, plant, carrier, "F-PAGE")
    complain(wp, lot, 3)
    late = wp.client.post(
        "/api/v1/reports",
        json={
            "lot_key": lot["lot_key"],
            "category": "damaged",
            "description": "Dented tin",
            "received_at": "2026-10-25T02:30:00+01:00",  # Europe's autumn night, second pass
        },
        headers=plant.headers,
    ).json()["reference"]

    anonymous = client_of(wp)
    assert anonymous.get("/alerts").status_code == 303  # to the sign-in page
    outsider = client_of(wp)
    sign_in(outsider, carrier, next_path="/alerts")
    refused = outsider.get("/alerts")
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]

    supplier = client_of(wp)
    sign_in(supplier, plant, next_path="/alerts")
    page = supplier.get("/alerts")
    assert page.status_code == 200
    assert page.text.count('class="alert-item state-open"') == 2
    assert "Complaint rate above the product&#39;s baseline" in page.text
    assert 'id="overdue-count">1 overdue' in page.text
    rows = page.text.split('id="waiting-reports"')[1]
    assert rows.index(f'id="report-{late}" class="overdue"') < rows.index("Illness or injury")
    assert "25 Oct 2026, 02:30 (UTC+01:00)" in rows

    alerts = wp.client.get("/api/v1/alerts", headers=plant.headers).json()
    alert_id = next(a["id"] for a in alerts if a["rule"] == "poisson_rate")
    assert f'id="alert-{alert_id}"' in page.text
    detail = supplier.get(f"/alerts/{alert_id}")
    assert detail.status_code == 200 and 'id="trace-link"' in detail.text
    token = hidden(detail.text, "csrf_token")
    acknowledged = supplier.post(f"/alerts/{alert_id}/acknowledge", data={"csrf_token": token})
    assert acknowledged.status_code == 303
    assert 'id="alert-state">acknowledged' in supplier.get(f"/alerts/{alert_id}").text
    forged = supplier.post(f"/alerts/{alert_id}/close", data={"csrf_token": "x", "note": "n"})
    assert forged.status_code == 403

    authority = client_of(wp)
    sign_in(authority, regulator, next_path=f"/alerts/{alert_id}")
    token = hidden(authority.get(f"/alerts/{alert_id}").text, "csrf_token")
    incomplete = authority.post(
        f"/alerts/{alert_id}/escalate",
        data={"csrf_token": token, "recall_class": "2", "reason": "  ",
              "trade_instructions": "Hold stock"},
    )  # fmt: skip
    assert incomplete.status_code == 422
    assert 'id="form-error"' in incomplete.text and "Reason" in incomplete.text
    assert 'value="2" checked' in incomplete.text and "Hold stock" in incomplete.text
    escalated = authority.post(
        f"/alerts/{alert_id}/escalate",
        data={"csrf_token": token, "recall_class": "1",
              "reason": "Illness after feeding lot F-PAGE", "trade_instructions": "Hold stock"},
    )  # fmt: skip
    assert escalated.status_code == 303
    after = authority.get(f"/alerts/{alert_id}").text
    assert 'id="alert-state">escalated' in after and 'id="recall-link"' in after
    recall_id = int(after.split('href="/recalls/')[1].split('"')[0])
    assert wp.chain.contract.call("recallCount") >= recall_id
    recall_page = authority.get(f"/recalls/{recall_id}")
    assert recall_page.status_code == 200 and "F-PAGE" in recall_page.text

    closed = authority.post(
        f"/alerts/{alert_id}/close", data={"csrf_token": token, "note": "Recall issued"}
    )
    assert closed.status_code == 303
    assert supplier.get("/alerts").text.count('class="alert-item') == 1  # the burst alert
    assert "Recall issued" in supplier.get("/alerts?closed=1").text
