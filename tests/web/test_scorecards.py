"""Supplier scorecards over the story's record: the API's grade and measures (at a stated
instant, so the figures are the record's alone), the public page with its formula and chart,
the grade on the scan page linking to it, and plain refusals."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import update

from fixtures.writepath import WritePath
from lotlink.models import Actor
from lotlink.services.scorecards import grades
from web.story import Story

APRIL = "2026-04-01T00:00:00+00:00"  # a month after the story's events


def gln_of(wp: WritePath, story: Story, name: str) -> str:
    with wp.session() as session:
        actor = session.get_one(Actor, story.parties[name].address.lower())
        assert actor.gln is not None
        return actor.gln


def card_of(wp: WritePath, gln: str, **params: str) -> dict[str, Any]:
    response = wp.client.get(f"/api/v1/suppliers/{gln}/scorecard", params=params)
    assert response.status_code == 200, response.text
    card: dict[str, Any] = response.json()
    return card


def test_the_plants_scorecard_from_its_record(write_path: WritePath, story: Story) -> None:
    gln = gln_of(write_path, story, "plant")
    card = card_of(write_path, gln, at=APRIL)
    measures = {c["key"]: (c["score"], c["detail"]) for c in card["components"]}
    assert measures == {
        "inspections": (100.0, "3 of 3 inspections passed"),
        "complaints": (100.0, "0 complaints about 3,600 units shipped"),
        "recalls": (100.0, "none issued"),  # the recall names the farm's milk lot, not these
        "certificates": (50.0, "no qualification certificate on record"),
        "responses": (None, "0 of 0 deadlines met"),
    }
    # (30 x 100 + 25 x 100 + 20 x 100 + 15 x 50) / 90: responses have no data and are left out.
    assert card["score"] == 91.7
    assert card["grade"] == "A"
    assert [h["at"][:10] for h in card["history"][-3:]] == [
        "2026-03-01",
        "2026-04-01",
        "2026-04-01",
    ]
    assert len(card["history"]) == 14
    assert card["page"] == f"/suppliers/{gln}"
    assert "weighted mean" in card["formula"]
    assert card_of(write_path, gln, at=APRIL) == card  # the same record, the same card


def test_the_farms_grade_falls_with_its_recall(write_path: WritePath, story: Story) -> None:
    card = card_of(write_path, gln_of(write_path, story, "farm"))
    measures = {c["key"]: c for c in card["components"]}
    assert measures["recalls"]["score"] == 50.0  # one class I recall of its milk lot B
    assert measures["recalls"]["detail"] == "class I issued"
    assert (card["score"], card["grade"]) == (50.0, "D")  # recalls 50 (20), certificates 50 (15)
    # At the start of this month, before the recall was issued, it was a B.
    assert (card["history"][-2]["score"], card["history"][-2]["grade"]) == (78.6, "B")


def test_the_supplier_page_shows_grade_formula_and_chart(
    write_path: WritePath, story: Story
) -> None:
    gln = gln_of(write_path, story, "farm")
    page = write_path.client.get(f"/suppliers/{gln}")
    assert page.status_code == 200
    html = page.text
    assert "Green Valley Farm" in html
    assert re.search(r'id="grade" aria-label="Grade D">D<', html)
    assert "How the grade is worked out:" in html
    assert "100 \u2212 50 per class I" in html
    svg = re.search(r"<svg id=\"grade-chart\".*?</svg>", html, re.S)
    assert svg is not None
    assert svg.group(0).count("<circle") == 14
    assert 'id="flagged"' not in html  # flagged codes are listed only to the supplier, signed in


def test_the_scan_page_shows_the_suppliers_grade_linking_to_its_page(
    write_path: WritePath, story: Story
) -> None:
    grades.clear()
    gln = gln_of(write_path, story, "plant")
    card = card_of(write_path, gln)
    html = write_path.client.get(story.path("normal")).text
    badge = re.search(
        r'<a class="supplier-grade" id="supplier-grade" href="([^"]+)">grade '
        r'<span class="grade grade-(\w)">',
        html,
    )
    assert badge is not None
    assert badge.group(1) == f"/suppliers/{gln}"
    assert badge.group(2) == card["grade"]


def test_unknown_and_malformed_glns_are_refused_plainly(
    write_path: WritePath, story: Story
) -> None:
    missing = write_path.client.get("/api/v1/suppliers/9521234999997/scorecard")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["detail"] == (
        "no supplier with GLN 9521234999997 is registered with this service"
    )
    bad = write_path.client.get("/api/v1/suppliers/12345/scorecard")
    assert bad.status_code == 422 and "GLN" in bad.json()["detail"]
    naive = write_path.client.get(
        f"/api/v1/suppliers/{gln_of(write_path, story, 'farm')}/scorecard",
        params={"at": "2026-04-01T00:00:00"},
    )
    assert naive.status_code == 422 and naive.json()["field"] == "at"
    page = write_path.client.get("/suppliers/9521234999997")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "No supplier with GLN 9521234999997" in page.text
    with write_path.sessions.begin() as session:  # a supplier without a GLN shows no grade
        session.execute(update(Actor).values(gln=None))
    grades.clear()
    assert 'id="supplier-grade"' not in write_path.client.get(story.path("recalled")).text
