"""The scorecard formula on known inputs: each measure, the weighted mean over the measures
with data, the grade bands, monthly snapshots that only see what had happened by then, and the
SVG chart drawn from them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest

from lotlink.models import Actor, Certificate, SubjectKind
from lotlink.services.scorecards import (
    Component,
    Scorecard,
    Shipment,
    SupplierRecord,
    combine,
    grade_of,
    measure,
    month_starts,
)
from lotlink.vocabulary import CertificateKind
from lotlink.web.suppliers import GradeChart, grade_chart
from lotlink.web.templating import render_text

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def certificate(kind: CertificateKind, *, since: float, until: float | None, revoked_at: float | None = None) -> Certificate:  # fmt: skip
    return Certificate(
        certificate_id="0x" + "11" * 32,
        subject_kind=SubjectKind.ACTOR,
        kind=kind,
        valid_from=days_ago(since),
        valid_until=None if until is None else days_ago(until),
        revoked=revoked_at is not None,
        revoked_at=None if revoked_at is None else days_ago(revoked_at),
    )


def known_record() -> SupplierRecord:
    return SupplierRecord(
        # 9 of 10 inspections passed this year; one old failure is outside the window.
        inspections=[(days_ago(10 + i), i != 3) for i in range(10)] + [(days_ago(400), False)],
        # 4,000 units shipped in the window, 2 complaints: 0.5 per 1,000 -> 87.5. Lot A went
        # plant -> distributor (counted once: 2,500), lot B's two shipments say 1,700 of its
        # 1,500 (at most the lot: 1,500), lot C was shipped long ago.
        shipped=[
            Shipment(days_ago(50), "A", "plant", 2500.0),
            Shipment(days_ago(45), "A", "distributor", 1500.0),
            Shipment(days_ago(44), "A", "distributor", 1000.0),
            Shipment(days_ago(20), "B", "plant", 900.0),
            Shipment(days_ago(19), "B", "plant", 800.0),
            Shipment(days_ago(500), "C", "plant", 9000.0),
        ],
        lot_units={"A": 2800.0, "B": 1500.0, "C": 9000.0},
        complaints=[days_ago(15), days_ago(5)],
        # One class II recall this year (-30 -> 70), one class I long ago.
        recalls=[(days_ago(100), 2), (days_ago(800), 1)],
        # ISO 9001 valid; the production licence expired 10 days ago -> 1 of 2 -> 50.
        certificates=[
            certificate(CertificateKind.ISO9001, since=300, until=-65),
            certificate(CertificateKind.PRODUCTION_LICENCE, since=700, until=10),
        ],
        # 3 deadlines fell due, 2 met; one is not due yet.
        deadlines=[
            (days_ago(30), days_ago(30.5)),
            (days_ago(28), days_ago(29)),
            (days_ago(20), days_ago(19)),
            (NOW + timedelta(hours=5), None),
        ],
    )


def test_each_measure_and_the_grade_on_a_known_record() -> None:
    snapshot = measure(known_record(), NOW)
    scores = {c.key: c.score for c in snapshot.components}
    assert scores == {
        "inspections": pytest.approx(90.0),
        "complaints": pytest.approx(87.5),
        "recalls": pytest.approx(70.0),
        "certificates": pytest.approx(50.0),
        "responses": pytest.approx(200 / 3),
    }
    expected = (30 * 90 + 25 * 87.5 + 20 * 70 + 15 * 50 + 10 * 200 / 3) / 100
    assert snapshot.score == pytest.approx(expected)  # 76.54...
    assert snapshot.grade == "B"
    values = {c.key: c.value for c in snapshot.components}
    assert values["complaints"] == "0.50 per 1,000 units"
    assert values["certificates"] == "1 of 2 valid"


def test_measures_without_data_are_left_out_and_the_weights_shared() -> None:
    record = SupplierRecord(recalls=[(days_ago(3), 1)])  # nothing but a class I recall
    snapshot = measure(record, NOW)
    by_key = {c.key: c for c in snapshot.components}
    assert by_key["inspections"].score is None
    assert by_key["complaints"].score is None and by_key["complaints"].value == "nothing shipped"
    assert by_key["responses"].score is None
    assert by_key["certificates"].score == 50.0  # none on record
    # recalls 50 (weight 20) and certificates 50 (weight 15) only.
    assert snapshot.score == pytest.approx(50.0)
    assert snapshot.grade == "D"
    assert combine([Component("inspections", None, "", "")]) == 100.0


@pytest.mark.parametrize(
    ("score", "grade"),
    [(100, "A"), (90, "A"), (89.99, "B"), (75, "B"), (60, "C"), (59.9, "D"), (40, "D"), (39.9, "E"), (0, "E")],
)  # fmt: skip
def test_grade_bands(score: float, grade: str) -> None:
    assert grade_of(score) == grade


def test_complaints_bottom_out_and_recalls_do_not_go_below_zero() -> None:
    record = SupplierRecord(
        shipped=[Shipment(days_ago(5), "A", None, 1000.0)],
        complaints=[days_ago(1)] * 6,
        recalls=[(days_ago(2), 1), (days_ago(3), 1), (days_ago(4), 2)],
    )
    scores = {c.key: c.score for c in measure(record, NOW).components}
    assert scores["complaints"] == 0.0
    assert scores["recalls"] == 0.0


def test_a_revocation_counts_from_its_own_time_in_the_history() -> None:
    record = SupplierRecord(
        certificates=[certificate(CertificateKind.ISO9001, since=300, until=-300, revoked_at=40)]
    )
    before = measure(record, days_ago(60))
    after = measure(record, NOW)
    assert {c.key: c.score for c in before.components}["certificates"] == 100.0
    assert {c.key: c.score for c in after.components}["certificates"] == 0.0


def test_monthly_history_starts_and_sees_only_what_had_happened() -> None:
    starts = month_starts(NOW)
    assert starts[0] == datetime(2025, 11, 1, tzinfo=UTC)
    assert starts[-1] == datetime(2026, 11, 1, tzinfo=UTC)
    assert len(starts) == 13
    assert month_starts(datetime(2026, 1, 5, tzinfo=UTC), 2) == [
        datetime(2025, 11, 1, tzinfo=UTC),
        datetime(2025, 12, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
    ]
    # A recall issued 100 days ago is not in the snapshot taken before it.
    record = known_record()
    early = measure(record, days_ago(120))
    assert {c.key: c.score for c in early.components}["recalls"] == 100.0


def test_the_chart_is_valid_svg_with_one_point_per_snapshot_on_grade_bands() -> None:
    record = known_record()
    snapshots = [measure(record, at) for at in month_starts(NOW)] + [measure(record, NOW)]
    chart = grade_chart(snapshots)
    assert len(chart.points) == 14
    assert chart.points[-1].label == "now"
    assert chart.points[0].x < chart.points[-1].x
    # Higher scores are drawn higher (SVG y grows downwards).
    best = max(chart.points, key=lambda p: p.score)
    worst = min(chart.points, key=lambda p: p.score)
    assert best.y <= worst.y
    svg_text = render_svg(chart)
    svg = ElementTree.fromstring(svg_text)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(svg.findall(f"{ns}circle")) == 14
    assert [t.text for t in svg.findall(f"{ns}text") if t.get("class") == "band-label"] == list(
        "ABCDE"
    )
    assert len(svg.find(f"{ns}polyline").get("points").split()) == 14  # type: ignore[union-attr]


def render_svg(chart: GradeChart) -> str:
    """The chart's <svg> element as the supplier page renders it."""
    record = known_record()
    current = measure(record, NOW)
    card = Scorecard(supplier=Actor(address="0x" + "ab" * 20, gln="9521234990017"), current=current, history=[])  # fmt: skip
    html = render_text(
        "supplier.html",
        supplier=card.supplier,
        card=card,
        chart=chart,
        snapshots=[current],
        signed_in=None,
        flagged=None,
    )
    match = re.search(r"<svg .*?</svg>", html, re.S)
    assert match is not None
    return match.group(0)
