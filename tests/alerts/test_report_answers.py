"""Answering problem reports: the reporter follows the status with the reference number on a
page that shows nothing personal; the lot's supplier answers and resolves through the API;
reports past a deadline surface for the supplier and the regulator; complaints forwarded by a
shop's desk count from when they were received there, in its local time."""

from __future__ import annotations

from typing import Any

from fixtures.writepath import Party, WritePath, gtin
from lotlink.gs1.digital_link import DigitalLink
from lotlink.vocabulary import Role

CEREAL = gtin(801)


def setup(wp: WritePath) -> tuple[dict[str, Party], dict[str, Any]]:
    parties = {
        "plant": wp.actor(Role.SUPPLIER, name="Plant"),
        "shop": wp.actor(Role.SUPPLIER, name="Corner shop"),
        "carrier": wp.actor(Role.CARRIER),
        "regulator": wp.actor(Role.REGULATOR),
    }
    lot = wp.lot(parties["plant"], CEREAL, "C-1", product_name="Oat flakes 500 g", quantity=500,
                 unit="H87")  # fmt: skip
    return parties, lot


def report_by_form(wp: WritePath, lot: dict[str, Any]) -> str:
    link = DigitalLink(gtin=lot["gtin"], lot=lot["lot_code"]).path
    sent = wp.client.post(
        "/report",
        params={"link": link},
        data={
            "category": "quality_defect",
            "description": "Found a piece of glass, my name is Ana Lopez",
            "contact": "ana@example.org",
        },
    )
    assert sent.status_code == 200, sent.text
    assert 'href="/report/' in sent.text and "within 12 hours" in sent.text
    return sent.text.split('id="report-reference">')[1].split("<")[0]


def test_the_reporter_follows_the_answers_on_a_page_without_personal_data(
    write_path: WritePath,
) -> None:
    wp = write_path
    parties, lot = setup(wp)
    plant = parties["plant"]
    reference = report_by_form(wp, lot)

    page = wp.client.get(f"/report/{reference.lower()}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Waiting for the supplier's first answer" in page.text
    assert "Oat flakes 500 g, lot C-1" in page.text
    for private in ("glass", "Ana Lopez", "ana@example.org"):
        assert private not in page.text

    answered = wp.client.post(
        f"/api/v1/reports/{reference}/responses",
        json={"message": "We are testing the retained samples of lot C-1."},
        headers=plant.headers,
    )
    assert answered.status_code == 201, answered.text
    body = answered.json()
    assert body["status"] == "responded" and body["first_response_on_time"] is True
    assert body["responses"][0]["actor"] == plant.address
    page = wp.client.get(f"/report/{reference}")
    assert "The supplier has answered" in page.text
    assert "We are testing the retained samples of lot C-1." in page.text

    resolved = wp.client.post(
        f"/api/v1/reports/{reference}/responses",
        json={"message": "Lot C-1 is withdrawn; refund at any shop.", "resolves": True},
        headers=plant.headers,
    )
    assert resolved.status_code == 201 and resolved.json()["status"] == "resolved"
    assert resolved.json()["resolution_on_time"] is True
    assert "Resolved" in wp.client.get(f"/report/{reference}").text
    again = wp.client.post(
        f"/api/v1/reports/{reference}/responses", json={"message": "More"}, headers=plant.headers
    )
    assert again.status_code == 422 and "is resolved" in again.json()["detail"]

    missing = wp.client.get("/report/PR-NOSUCH00")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert "No problem report PR-NOSUCH00" in missing.text


def test_only_the_lots_supplier_and_regulators_answer(write_path: WritePath) -> None:
    wp = write_path
    parties, lot = setup(wp)
    reference = report_by_form(wp, lot)
    url = f"/api/v1/reports/{reference}/responses"
    message = {"message": "Looking into it"}

    assert wp.client.post(url, json=message, headers=parties["shop"].headers).status_code == 404
    carrier = wp.client.post(url, json=message, headers=parties["carrier"].headers)
    assert carrier.status_code == 403
    assert wp.client.post(url, json=message).status_code == 401
    blank = wp.client.post(url, json={"message": "   "}, headers=parties["plant"].headers)
    assert blank.status_code == 422 and blank.json()["field"] == "message"
    by_regulator = wp.client.post(url, json=message, headers=parties["regulator"].headers)
    assert by_regulator.status_code == 201
    seen = wp.client.get(f"/api/v1/reports/{reference}", headers=parties["plant"].headers)
    assert seen.json()["responses"][0]["actor"] == parties["regulator"].address


def test_a_forwarded_complaint_counts_from_when_the_shop_received_it_and_shows_overdue(
    write_path: WritePath,
) -> None:
    wp = write_path
    parties, lot = setup(wp)
    plant, shop, regulator = parties["plant"], parties["shop"], parties["regulator"]
    forwarded = wp.client.post(
        "/api/v1/reports",
        json={
            "gtin": CEREAL,
            "lot_code": "C-1",
            "category": "damaged",
            "description": "Customer brought back a torn bag",
            "received_at": "2026-03-29T01:30:00",
            "time_zone": "Europe/Paris",
        },
        headers=shop.headers,
    )
    assert forwarded.status_code == 201, forwarded.text
    body = forwarded.json()
    assert body["received_at"] == "2026-03-29T00:30:00Z"
    assert body["received_offset"] == "+01:00" and body["submitted_by"] == shop.address
    assert body["first_response_due_at"] == "2026-03-29T12:30:00Z"
    assert body["resolution_due_at"] == "2026-03-31T00:30:00Z"
    assert body["first_response_overdue"] and body["resolution_overdue"]
    reference = body["reference"]
    fresh = report_by_form(wp, lot)

    for party in (plant, regulator):
        overdue = wp.client.get(
            "/api/v1/reports", params={"overdue": "true"}, headers=party.headers
        ).json()["reports"]
        assert [r["reference"] for r in overdue] == [reference]
        everything = wp.client.get("/api/v1/reports", headers=party.headers).json()["reports"]
        assert {r["reference"] for r in everything} == {reference, fresh}
    # The shop follows the report it forwarded (not the plant's others), but does not answer it.
    shop_sees = wp.client.get("/api/v1/reports", headers=shop.headers).json()["reports"]
    assert [r["reference"] for r in shop_sees] == [reference]
    shop_answers = wp.client.post(
        f"/api/v1/reports/{reference}/responses", json={"message": "ok"}, headers=shop.headers
    )
    assert shop_answers.status_code == 403

    page = wp.client.get(f"/report/{reference}")
    assert "29 Mar 2026, 01:30 (UTC+01:00)" in page.text  # received, as the shop stated it
    assert "29 Mar 2026, 13:30 (UTC+01:00)" in page.text  # twelve hours on, same offset
    assert "overdue" in page.text

    wp.client.post(
        f"/api/v1/reports/{reference}/responses",
        json={"message": "Replaced", "resolves": True},
        headers=plant.headers,
    )
    late = wp.client.get(f"/api/v1/reports/{reference}", headers=plant.headers).json()
    assert late["status"] == "resolved" and late["resolution_on_time"] is False
    assert not late["resolution_overdue"]
    overdue = wp.client.get("/api/v1/reports", params={"overdue": "true"}, headers=plant.headers)
    assert overdue.json()["reports"] == []


def test_forwarded_complaints_with_unusable_times_are_refused(write_path: WritePath) -> None:
    wp = write_path
    parties, _ = setup(wp)
    base = {"gtin": CEREAL, "lot_code": "C-1", "category": "other", "description": "x"}
    for received, zone, detail in (
        ("2026-03-29T02:30:00", "Europe/Paris", "does not exist in Europe/Paris"),
        ("2026-03-29T09:00:00", None, "needs a UTC offset"),
        ("yesterday", None, "not an ISO 8601"),
    ):
        refused = wp.client.post(
            "/api/v1/reports",
            json={**base, "received_at": received, "time_zone": zone},
            headers=parties["shop"].headers,
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == "received_at" and detail in refused.json()["detail"]
    carrier = wp.client.post(
        "/api/v1/reports",
        json={**base, "received_at": "2026-03-29T09:00:00Z"},
        headers=parties["carrier"].headers,
    )
    assert carrier.status_code == 403
    unknown_lot = wp.client.post(
        "/api/v1/reports",
        json={**base, "lot_code": "NOPE", "received_at": "2026-03-29T09:00:00Z"},
        headers=parties["shop"].headers,
    )
    assert unknown_lot.status_code == 404
