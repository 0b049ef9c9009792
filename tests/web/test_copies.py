"""Copied codes end to end: scans of a serial's page are buffered, written in a batch and judged;
a serial seen in two distant cities moments apart, scanned too often, or never recorded by a lot
that records its serials is flagged on its page and reported to the supplier (alert and signed
webhook). Plausible scans stay quiet; nothing but time and a rounded place is kept."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect, select

from fixtures.writepath import Party, WritePath, gln, gtin
from lotlink.gs1.digital_link import DigitalLink
from lotlink.models import Actor, Alert, CopyFlag, CopyRule, SerialScan, WebhookDelivery
from lotlink.services.copies import COARSE_LOCATION_HEADER
from lotlink.services.scans import ScanRecorder
from lotlink.services.webhooks import register_endpoint
from lotlink.vocabulary import Role
from web.test_session import client_of, sign_in

PARIS, LYON, VERSAILLES = "48.8566,2.3522", "45.7640,4.8357", "48.8049,2.1204"
WARNING = "This code may be a copy"


@pytest.fixture
def supplier(write_path: WritePath) -> Party:
    return write_path.actor(Role.SUPPLIER, name="Nordic Infant Nutrition")


@pytest.fixture
def lot(write_path: WritePath, supplier: Party) -> dict[str, Any]:
    made = write_path.lot(supplier, gtin(611), "SER-1", product_name="Infant formula 800 g")
    response = write_path.client.post(
        f"/api/v1/lots/{made['lot_key']}/checkpoints",
        json={"kind": "produced", "time": "2026-11-01T06:00:00.000+01:00"},
        headers=supplier.headers,
    )
    assert response.status_code == 201, response.text
    return made


def page(wp: WritePath, lot: dict[str, Any], serial: str, place: str | None = None) -> str:
    path = DigitalLink(gtin=lot["gtin"], lot=lot["lot_code"], serial=serial).path
    headers = {"Accept": "text/html"} | ({COARSE_LOCATION_HEADER: place} if place else {})
    response = wp.client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.text


def recorder(wp: WritePath) -> ScanRecorder:
    scans: ScanRecorder = wp.client.app.state.scans  # type: ignore[attr-defined]
    return scans


def flagged(wp: WritePath) -> list[tuple[str, CopyRule]]:
    """Writes every buffered scan (waiting for a background flush under way), then lists the
    flags stored: the background thread may have written some scans first."""
    recorder(wp).flush()
    with wp.session() as session:
        rows = session.scalars(select(CopyFlag).order_by(CopyFlag.id)).all()
        return [(flag.serial, flag.rule) for flag in rows]


def alerts(wp: WritePath, kind: str) -> list[Alert]:
    with wp.session() as session:
        return list(session.scalars(select(Alert).where(Alert.kind == kind).order_by(Alert.id)))


def test_one_serial_in_paris_and_lyon_moments_apart_is_flagged_and_reported(
    write_path: WritePath, supplier: Party, lot: dict[str, Any]
) -> None:
    with write_path.session() as session:
        owner = session.get_one(Actor, supplier.address.lower())
        register_endpoint(session, owner, url="https://hooks.example/lotlink")
        session.commit()
    assert WARNING not in page(write_path, lot, "0001", PARIS)
    assert WARNING not in page(write_path, lot, "0001", LYON)  # still only buffered
    assert flagged(write_path) == [("0001", CopyRule.IMPOSSIBLE_TRAVEL)]

    text = page(write_path, lot, "0001")  # the flag is in the page's fingerprint: a miss
    assert WARNING in text
    assert "near 48.9, 2.4" in text and "near 45.8, 4.8" in text and "km apart" in text
    assert WARNING not in page(write_path, lot, "0002", PARIS)  # another serial is untouched

    (alert,) = alerts(write_path, "copies")
    assert alert.rule == "impossible_travel"
    assert alert.supplier_address == supplier.address.lower()
    assert alert.lot_key == lot["lot_key"]
    assert alert.statistic["serial"] == "0001"
    assert alert.statistic["distance_km"] == pytest.approx(392, rel=0.03)
    assert alert.reason.startswith("Serial 0001 of lot SER-1 may be a copy: scanned near 48.9, 2.4")
    with write_path.session() as session:
        (delivery,) = session.scalars(select(WebhookDelivery)).all()
    assert delivery.event_type == "alert.opened"
    assert '"kind":"copies"' in delivery.body.replace(" ", "")

    # The next flush judges again but raises nothing twice.
    page(write_path, lot, "0001", PARIS)
    assert flagged(write_path) == [("0001", CopyRule.IMPOSSIBLE_TRAVEL)]
    assert len(alerts(write_path, "copies")) == 1


def test_plausible_scans_stay_quiet(write_path: WritePath, lot: dict[str, Any]) -> None:
    # Paris then Versailles (17 km: within the rounding) and a few scans without a place.
    for place in (PARIS, VERSAILLES, None, PARIS, None):
        page(write_path, lot, "0100", place)
    assert flagged(write_path) == []
    assert WARNING not in page(write_path, lot, "0100")
    assert alerts(write_path, "copies") == []


def test_too_many_scans_of_one_serial_is_flagged(
    write_path: WritePath, lot: dict[str, Any]
) -> None:
    limit = write_path.settings.copy_rate_limit
    for _ in range(limit):
        page(write_path, lot, "0200")
    assert flagged(write_path) == []  # exactly the limit: a busy but possible pack
    page(write_path, lot, "0200")
    assert flagged(write_path) == [("0200", CopyRule.SCAN_RATE)]
    assert f"Scanned {limit + 1} times within 60 min" in page(write_path, lot, "0200")


def test_a_serial_the_lot_never_recorded_is_flagged_at_once(
    write_path: WritePath, supplier: Party
) -> None:
    lot = write_path.lot(supplier, gtin(612), "SER-2", product_name="Infant formula 800 g")
    serials = [f"{lot['digital_link']}/21/A{n}" for n in (1, 2, 3)]
    commissioning = {
        "type": "ObjectEvent",
        "eventTime": "2026-11-01T06:00:00.000+01:00",
        "eventTimeZoneOffset": "+01:00",
        "action": "ADD",
        "epcList": serials,
        "quantityList": [{"epcClass": lot["digital_link"], "quantity": 3, "uom": "H87"}],
        "bizStep": "commissioning",
        "disposition": "active",
        "readPoint": {"id": f"https://id.gs1.org/414/{gln(950)}"},
    }
    body = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-01T10:00:00.000Z",
        "epcisBody": {"eventList": [commissioning]},
    }
    captured = write_path.client.post("/epcis/capture", json=body, headers=supplier.headers)
    assert captured.status_code == 201, captured.text

    assert WARNING not in page(write_path, lot, "A2")
    text = page(write_path, lot, "A9")  # shown before any flush: the page is built from the record
    assert WARNING in text
    assert "Serial A9 was never recorded for this lot, whose record names 3 serials." in text
    assert flagged(write_path) == [("A9", CopyRule.NOT_COMMISSIONED)]
    (alert,) = alerts(write_path, "copies")
    assert alert.rule == "not_commissioned" and alert.statistic["recorded_serials"] == 3


def test_only_serial_pages_are_recorded_and_only_time_and_a_rounded_place_are_kept(
    write_path: WritePath, lot: dict[str, Any]
) -> None:
    lot_page = DigitalLink(gtin=lot["gtin"], lot=lot["lot_code"]).path
    write_path.client.get(lot_page, headers={COARSE_LOCATION_HEADER: PARIS})
    write_path.client.get(lot_page + "/21/0300/qr.svg")  # a QR image is not a scan
    page(write_path, lot, "0300", PARIS)
    page(write_path, lot, "0300", "not a place")  # unreadable: the page is served, no place
    write_path.client.get("/01/09521230006112/10/NO-SUCH-LOT/21/1")  # 404: dropped at the flush
    assert flagged(write_path) == []
    with write_path.session() as session:
        rows = session.scalars(select(SerialScan).order_by(SerialScan.id)).all()
        engine = session.get_bind()
    columns = {c["name"] for c in inspect(engine).get_columns("serial_scan")}
    assert columns == {"id", "lot_key", "serial", "scanned_at", "lat_tenths", "lon_tenths"}
    assert [(r.serial, r.lat_tenths, r.lon_tenths) for r in rows] == [
        ("0300", 489, 24),
        ("0300", None, None),
    ]


def test_the_supplier_signed_in_sees_its_flagged_codes_on_its_page(
    write_path: WritePath, supplier: Party, lot: dict[str, Any]
) -> None:
    page(write_path, lot, "0400", PARIS)
    page(write_path, lot, "0400", LYON)
    assert flagged(write_path) == [("0400", CopyRule.IMPOSSIBLE_TRAVEL)]
    with write_path.session() as session:
        gln = session.get_one(Actor, supplier.address.lower()).gln
    stranger = write_path.actor(Role.SUPPLIER, name="Another supplier")

    public = write_path.client.get(f"/suppliers/{gln}").text
    assert 'id="flagged"' not in public and "0400" not in public
    for party, sees in ((stranger, False), (supplier, True)):
        with client_of(write_path) as browser:
            assert sign_in(browser, party, next_path=f"/suppliers/{gln}").status_code == 303
            text = browser.get(f"/suppliers/{gln}").text
        assert ('id="flagged"' in text) is sees
        assert ("Lot SER-1, serial 0400" in text) is sees


def test_a_scan_pages_script_gives_the_view_its_rough_place(
    write_path: WritePath, lot: dict[str, Any]
) -> None:
    link = DigitalLink(gtin=lot["gtin"], lot=lot["lot_code"], serial="0500").path
    page(write_path, lot, "0500")  # the view, recorded without a place
    given = write_path.client.post(
        "/api/v1/scans", json={"link": link, "lat": 48.8566, "lon": 2.3522}
    )
    assert given.status_code == 202, given.text
    assert given.json() == {"place": [48.9, 2.4]}
    # No view of serial 0501 before: its place is a scan of its own.
    other = DigitalLink(gtin=lot["gtin"], lot=lot["lot_code"], serial="0501").path
    assert write_path.client.post("/api/v1/scans", json={"link": other, "lat": 45.76, "lon": 4.84}).status_code == 202  # fmt: skip
    assert flagged(write_path) == []
    with write_path.session() as session:
        rows = session.execute(
            select(SerialScan.serial, SerialScan.lat_tenths, SerialScan.lon_tenths).order_by(
                SerialScan.id
            )
        ).all()
    assert [tuple(r) for r in rows] == [("0500", 489, 24), ("0501", 458, 48)]

    page(write_path, lot, "0500", LYON)  # then Lyon a moment later: the view with a place
    assert flagged(write_path) == [("0500", CopyRule.IMPOSSIBLE_TRAVEL)]


def test_a_place_is_refused_plainly_when_it_names_no_serial_or_no_known_lot(
    write_path: WritePath, lot: dict[str, Any]
) -> None:
    lot_link = DigitalLink(gtin=lot["gtin"], lot=lot["lot_code"]).path
    cases = [
        ({"link": lot_link, "lat": 1, "lon": 1}, 422, "link"),
        ({"link": lot_link + "/21/1", "lat": 91, "lon": 1}, 422, "body.lat"),
        ({"link": lot_link + "/21/1", "lat": 1, "lon": 1, "ip": "x"}, 422, "body.ip"),
        ({"link": "/01/09521230006118/10/NO-SUCH/21/1", "lat": 1, "lon": 1}, 404, None),
        ({"link": "/01/123/10/A/21/1", "lat": 1, "lon": 1}, 400, None),
    ]
    for body, status, field in cases:
        response = write_path.client.post("/api/v1/scans", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        if field == "link":
            assert problem["field"] == "link"
        elif field is not None:
            assert problem["errors"][0]["field"] == field
    recorder(write_path).flush()
    with write_path.session() as session:
        assert session.scalars(select(SerialScan)).all() == []
