"""Recall lookups: `GET /api/v1/recalls` by GTIN (any length), lot, GLN and dates, inherited
recalls included unless asked otherwise, closed ones only when asked; bad filters are refused
with problem+json naming the field."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from fixtures.writepath import WritePath
from regulator.scenario import MILK, SUGAR, TIN, Scenario

PROBLEM_JSON = "application/problem+json"


def _issue(wp: WritePath, s: Scenario, by: str, lot: str, recall_class: int) -> dict[str, Any]:
    response = wp.client.post(
        "/api/v1/recalls",
        json={
            "recall_class": recall_class,
            "reason": f"{lot} fault",
            "lots": [{"lot_key": s.key(lot)}],
        },
        headers=s.parties[by].headers,
    )
    assert response.status_code == 201, response.text
    recall: dict[str, Any] = response.json()
    return recall


@pytest.fixture
def recalls(write_path: WritePath, scenario: Scenario) -> dict[str, dict[str, Any]]:
    """milk: a regulator's class II recall (reaches both bases and both tins); tin_a: the plant's
    voluntary class III; sugar: the mill's class I, closed."""
    found = {
        "milk": _issue(write_path, scenario, "regulator", "milk", 2),
        "tin_a": _issue(write_path, scenario, "plant", "tin_a", 3),
        "sugar": _issue(write_path, scenario, "mill", "sugar", 1),
    }
    closed = write_path.client.post(
        f"/api/v1/recalls/{found['sugar']['recall_id']}/close",
        json={"reason": "the sugar tested clean"},
        headers=scenario.parties["regulator"].headers,
    )
    assert closed.status_code == 200, closed.text
    return found


def _ids(wp: WritePath, **params: Any) -> list[int]:
    response = wp.client.get("/api/v1/recalls", params=params)
    assert response.status_code == 200, response.text
    return [r["recall_id"] for r in response.json()]


def test_lookups_by_gtin_and_lot_find_inherited_recalls(
    write_path: WritePath, recalls: dict[str, dict[str, Any]]
) -> None:
    milk, tin_a, sugar = (recalls[n]["recall_id"] for n in ("milk", "tin_a", "sugar"))
    # Most severe class first: the milk's class II before the tin's class III.
    assert _ids(write_path, gtin=TIN) == [milk, tin_a]
    assert _ids(write_path, gtin=TIN[1:]) == [milk, tin_a]  # the GTIN-13 form
    assert _ids(write_path, gtin=TIN, inherited="false") == [tin_a]
    assert _ids(write_path, gtin=TIN, include_closed="true") == [sugar, milk, tin_a]
    assert _ids(write_path, gtin=TIN, lot_code="TIN-B") == [milk]
    assert _ids(write_path, gtin=TIN, lot_code="TIN-B", include_closed="true") == [sugar, milk]
    assert _ids(write_path, gtin=TIN, lot_code="NO-SUCH-LOT") == []
    # A recall reaches downstream only: the tin's recall is not the milk's.
    assert _ids(write_path, gtin=MILK) == [milk]
    assert _ids(write_path, gtin=SUGAR) == []
    assert _ids(write_path, gtin=SUGAR, include_closed="true") == [sugar]
    assert _ids(write_path) == [milk, tin_a]


def test_lookups_by_gln_find_what_is_held_there(
    write_path: WritePath, scenario: Scenario, recalls: dict[str, dict[str, Any]]
) -> None:
    milk, tin_a, sugar = (recalls[n]["recall_id"] for n in ("milk", "tin_a", "sugar"))
    glns = scenario.glns
    assert _ids(write_path, gln=glns["farm"]) == [milk]  # owns the milk
    assert _ids(write_path, gln=glns["retailer2"]) == [milk, tin_a]  # received TIN-A
    assert _ids(write_path, gln=glns["retailer3"]) == [milk]  # received TIN-B
    assert _ids(write_path, gln=glns["mill"]) == []
    assert _ids(write_path, gln=glns["mill"], include_closed="true") == [sugar]
    assert _ids(write_path, gln=glns["regulator"]) == []  # holds no lot
    # Filters combine: retailer 2 never held the milk itself, but holds what was made from it.
    assert _ids(write_path, gln=glns["retailer2"], gtin=MILK) == []
    assert _ids(write_path, gln=glns["retailer2"], gtin=TIN) == [milk, tin_a]


def test_lookups_by_date(write_path: WritePath, recalls: dict[str, dict[str, Any]]) -> None:
    milk, tin_a, sugar = (recalls[n]["recall_id"] for n in ("milk", "tin_a", "sugar"))
    day = date.fromisoformat(recalls["milk"]["issued_at"][:10])
    closed_day = date.fromisoformat(
        write_path.client.get(f"/api/v1/recalls/{sugar}").json()["closed_at"][:10]
    )
    assert _ids(write_path, issued_from=day.isoformat(), issued_to=closed_day.isoformat()) == [
        milk,
        tin_a,
    ]
    after = (closed_day + timedelta(days=1)).isoformat()
    assert _ids(write_path, issued_from=after) == []
    assert _ids(write_path, issued_to=(day - timedelta(days=1)).isoformat()) == []
    # Active on the day it was closed: the sugar recall counts, closed since or not.
    assert _ids(write_path, active_on=closed_day.isoformat()) == [sugar, milk, tin_a]
    assert _ids(write_path, active_on=after) == [milk, tin_a]
    assert _ids(write_path, active_on=(day - timedelta(days=1)).isoformat()) == []


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"gtin": "12345"}, "gtin", "8, 12, 13 or 14 digits"),
        ({"gtin": TIN[:-1] + str((int(TIN[-1]) + 1) % 10)}, "gtin", "check digit"),
        ({"lot_code": "TIN-A"}, "lot_code", "needs its gtin"),
        ({"gtin": TIN, "lot_code": "bad lot ~"}, "lot_code", "CSET 82"),
        ({"gln": "95212"}, "gln", "13 digits"),
        ({"issued_from": "2026-03-05", "issued_to": "2026-03-01"}, "issued_to", "before"),
        ({"issued_from": "yesterday"}, "query.issued_from", "date"),
        ({"active_on": "2026-02-30"}, "query.active_on", "date"),
        ({"inherited": "perhaps"}, "query.inherited", "boolean"),
        ({"gtn": TIN}, "query.gtn", "Extra inputs"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(
    write_path: WritePath, params: dict[str, str], field: str, words: str
) -> None:
    response = write_path.client.get("/api/v1/recalls", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    named = problem.get("field") or problem["errors"][0]["field"]
    assert named == field and words in problem["detail"], problem
