"""Every route that names a lot by its 0x key refuses a malformed key with a problem+json naming
the field (422), and a well-formed key of no lot with 404: never a 500 from inside the query."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from fixtures.writepath import Party, WritePath, gtin
from lotlink.vocabulary import Role

#: Keys that are not 0x followed by 64 hex digits.
MALFORMED = {
    "not hex": "0x12zz",
    "too short": "0x" + "ab" * 31,
    "too long": "0x" + "ab" * 33,
    "no 0x": "ab" * 32,
    "a stray letter": "0x" + "ab" * 31 + "g1",
    "a trailing newline": "0x" + "ab" * 32 + "\n",
}
#: A well-formed key that no lot has.
UNKNOWN = "0x" + "cd" * 32
CHECKPOINT = {"kind": "produced", "time": "2025-03-01T09:30:00.000+01:00"}

#: (method, path with {key}, the field the problem names, JSON body)
Route = tuple[str, str, str, dict[str, str] | None]
PATH_ROUTES: list[Route] = [
    ("GET", "/api/v1/lots/{key}", "lot_key", None),
    ("POST", "/api/v1/lots/{key}/checkpoints", "lot_key", CHECKPOINT),
    ("GET", "/api/v1/lots/{key}/trace", "lot_key", None),
    ("GET", "/api/v1/lots/{key}/evidence", "lot_key", None),
    ("GET", "/api/v1/lots/{key}/recall-status", "lot_key", None),
    ("GET", "/api/v1/lots/{key}/journey", "lot_key", None),
    ("GET", "/api/v1/lots/{key}/certificates", "lot_key", None),
]
QUERY_ROUTES: list[Route] = [
    ("GET", "/api/v1/alerts?lot={key}", "query.lot", None),
    ("GET", "/api/v1/reports?lot={key}", "query.lot", None),
    ("GET", "/api/v1/fsma204?lot_key={key}", "lot_key.0", None),
]


@pytest.fixture
def regulator(write_path: WritePath) -> Party:
    return write_path.actor(Role.REGULATOR)


def ask(write_path: WritePath, party: Party, method: str, path: str, key: str, body: Any) -> Any:
    url = path.format(key=quote(key, safe=""))
    return write_path.client.request(method, url, json=body, headers=party.headers)


def field_of(problem: dict[str, Any]) -> str:
    """The field a problem names: its own `field`, or the first of its validation `errors`."""
    return str(problem.get("field") or problem["errors"][0]["field"])


@pytest.mark.parametrize(("method", "path", "field", "body"), PATH_ROUTES + QUERY_ROUTES)
def test_a_malformed_lot_key_is_a_problem_naming_the_field(
    write_path: WritePath, regulator: Party, method: str, path: str, field: str, body: Any
) -> None:
    for why, key in MALFORMED.items():
        response = ask(write_path, regulator, method, path, key, body)
        assert response.status_code == 422, (why, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert field_of(problem) == field, (why, problem)
        assert problem["detail"].startswith(f"{field}: "), (why, problem)


@pytest.mark.parametrize(("method", "path", "field", "body"), PATH_ROUTES)
def test_a_lot_key_of_no_lot_is_404_and_a_known_one_in_any_case_is_found(
    write_path: WritePath, regulator: Party, method: str, path: str, field: str, body: Any
) -> None:
    response = ask(write_path, regulator, method, path, UNKNOWN, body)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field and UNKNOWN in response.json()["detail"]
    if method == "GET":  # the key is case-insensitive hex, like every other 0x value
        supplier = write_path.actor(Role.SUPPLIER)
        lot = write_path.lot(supplier, gtin(61), "KEY-CASE")
        shouted = "0x" + lot["lot_key"][2:].upper()
        assert ask(write_path, regulator, method, path, shouted, body).status_code == 200
