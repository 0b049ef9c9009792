"""The Idempotency-Key header on the plain checkpoint routes: a retry is answered with the
checkpoint the first request recorded, even after another writer moved the lot's head; a key
reused for another request, or malformed, is a problem; keys are per actor and expire."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select, update

from fixtures.writepath import Party, WritePath, gln, gtin
from lotlink.models import CheckpointLot, IdempotencyKey
from lotlink.models.types import utc_now
from lotlink.services.idempotency import purge_expired_keys
from lotlink.vocabulary import Role

TIME = "2025-03-01T09:30:00.120+01:00"
PRODUCED = {"time": TIME, "kind": "produced", "quantity": 40, "unit": "KGM"}


def by_code(lot: dict[str, Any]) -> str:
    return f"/api/v1/lots/{lot['gtin']}/{lot['lot_code']}/checkpoints"


def by_key(lot: dict[str, Any]) -> str:
    return f"/api/v1/lots/{lot['lot_key']}/checkpoints"


def post(
    write_path: WritePath,
    party: Party,
    path: str,
    form: dict[str, Any],
    key: str | bytes | None = None,
) -> Any:
    headers: dict[str, Any] = dict(party.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    return write_path.client.post(path, json=form, headers=headers)


def events_of(write_path: WritePath, lot: dict[str, Any]) -> list[str]:
    with write_path.session() as session:
        return list(
            session.scalars(
                select(CheckpointLot.checkpoint_digest).where(
                    CheckpointLot.lot_key == lot["lot_key"]
                )
            )
        )


def age_keys(write_path: WritePath, hours: float) -> None:
    """Moves every stored key's creation `hours` into the past."""
    with write_path.session() as session:
        session.execute(
            update(IdempotencyKey).values(created_at=utc_now() - timedelta(hours=hours))
        )
        session.commit()


@pytest.fixture
def supplier(write_path: WritePath) -> Party:
    return write_path.actor(Role.SUPPLIER)


@pytest.fixture
def inspector(write_path: WritePath) -> Party:
    return write_path.actor(Role.INSPECTOR)


@pytest.fixture
def lot(write_path: WritePath, supplier: Party) -> dict[str, Any]:
    return write_path.lot(supplier, gtin(301), "RETRY-1", quantity=400)


def test_a_retry_after_another_writer_is_the_first_checkpoint(
    write_path: WritePath, supplier: Party, inspector: Party, lot: dict[str, Any]
) -> None:
    first = post(write_path, supplier, by_key(lot), PRODUCED, key="produce-7f3e")
    assert first.status_code == 201, first.text
    other = post(write_path, inspector, by_code(lot), {"time": TIME, "kind": "inspected"})
    assert other.status_code == 201, other.text
    before = write_path.counts()

    # The client timed out and sends the same request again, through the other route.
    retry = post(write_path, supplier, by_code(lot), PRODUCED, key="produce-7f3e")
    assert retry.status_code == 200, retry.text
    assert retry.json() == first.json()
    assert retry.headers["Location"] == f"/api/v1/checkpoints/{first.json()['digest']}"
    assert write_path.counts() == before
    assert sorted(events_of(write_path, lot)) == sorted(
        [first.json()["digest"], other.json()["digest"]]
    )

    # Without the key, the same retry is chained after the inspection: a second production.
    unkeyed = post(write_path, supplier, by_code(lot), PRODUCED)
    assert unkeyed.status_code == 201
    assert unkeyed.json()["digest"] != first.json()["digest"]
    assert len(events_of(write_path, lot)) == 3


def test_a_key_reused_for_a_different_request_is_422(
    write_path: WritePath, supplier: Party, lot: dict[str, Any]
) -> None:
    other_lot = write_path.lot(supplier, gtin(302), "RETRY-2")
    first = post(write_path, supplier, by_key(lot), PRODUCED, key="k-1")
    assert first.status_code == 201, first.text
    before = write_path.counts()
    for path, form in [
        (by_key(lot), {**PRODUCED, "quantity": 41}),
        (by_key(lot), {**PRODUCED, "location": gln(310)}),
        (by_key(other_lot), PRODUCED),
    ]:
        reused = post(write_path, supplier, path, form, key="k-1")
        assert reused.status_code == 422, reused.text
        assert reused.headers["content-type"] == "application/problem+json"
        problem = reused.json()
        assert problem["field"] == "Idempotency-Key"
        assert "'k-1' was used for a different request" in problem["detail"]
        assert "24 hours" in problem["detail"]
    assert write_path.counts() == before

    # The same request written differently (a default spelled out, 40 as 40.000) is the same.
    same = {**PRODUCED, "quantity": "40.000", "documents": [], "inputs": []}
    again = post(write_path, supplier, by_key(lot), same, key="k-1")
    assert again.status_code == 200 and again.json() == first.json()


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "1 to 255 characters, not 0"),
        ("x" * 256, "1 to 255 characters, not 256"),
        ("caf\u00e9".encode(), "printable ASCII"),
        ("tab\there", "printable ASCII"),
        ('"unterminated', "structured-field string"),
        ('"a" trailing', "structured-field string"),
    ],
)
def test_a_malformed_key_is_400_naming_the_header(
    write_path: WritePath, supplier: Party, lot: dict[str, Any], key: str | bytes, reason: str
) -> None:
    before = write_path.counts()
    response = post(write_path, supplier, by_key(lot), PRODUCED, key=key)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["field"] == "Idempotency-Key"
    assert problem["detail"].startswith("Idempotency-Key: ") and reason in problem["detail"]
    assert write_path.counts() == before


def test_a_quoted_key_is_the_same_key_and_255_characters_are_allowed(
    write_path: WritePath, supplier: Party, lot: dict[str, Any]
) -> None:
    longest = "~" + "a" * 253 + " "
    first = post(write_path, supplier, by_key(lot), PRODUCED, key="8e03978e-40d5")
    assert first.status_code == 201, first.text
    quoted = post(write_path, supplier, by_key(lot), PRODUCED, key='"8e03978e-40d5"')
    assert quoted.status_code == 200 and quoted.json() == first.json()
    with write_path.session() as session:
        assert session.scalars(select(IdempotencyKey.key)).all() == ["8e03978e-40d5"]
    shipped = {"time": TIME, "kind": "shipped", "destinations": [{"gln": gln(311)}]}
    assert post(write_path, supplier, by_key(lot), shipped, key=f'"{longest}"').status_code == 201
    with write_path.session() as session:
        assert longest in session.scalars(select(IdempotencyKey.key)).all()


def test_a_refused_request_leaves_its_key_unused(
    write_path: WritePath, supplier: Party, lot: dict[str, Any]
) -> None:
    before = write_path.counts()
    refused = post(write_path, supplier, by_key(lot), {**PRODUCED, "kind": "shipped"}, key="k-2")
    assert refused.status_code == 422 and refused.json()["field"] == "destinations"
    assert write_path.counts() == before
    accepted = post(write_path, supplier, by_key(lot), PRODUCED, key="k-2")
    assert accepted.status_code == 201, accepted.text


def test_keys_are_per_actor(
    write_path: WritePath, supplier: Party, inspector: Party, lot: dict[str, Any]
) -> None:
    produced = post(write_path, supplier, by_key(lot), PRODUCED, key="shared-key")
    inspected_form = {"time": TIME, "kind": "inspected", "result": "conformant"}
    inspected = post(write_path, inspector, by_key(lot), inspected_form, key="shared-key")
    assert (produced.status_code, inspected.status_code) == (201, 201), inspected.text
    assert inspected.json()["previous"] == {lot["lot_key"]: produced.json()["digest"]}
    again = post(write_path, supplier, by_key(lot), PRODUCED, key="shared-key")
    assert again.status_code == 200 and again.json() == produced.json()
    again = post(write_path, inspector, by_key(lot), inspected_form, key="shared-key")
    assert again.status_code == 200 and again.json() == inspected.json()
    with write_path.session() as session:
        rows = session.execute(select(IdempotencyKey.actor_address, IdempotencyKey.key)).all()
    assert sorted(rows) == sorted(
        [(supplier.address.lower(), "shared-key"), (inspector.address.lower(), "shared-key")]
    )


def test_a_key_is_remembered_for_the_retention_then_forgotten(
    write_path: WritePath, supplier: Party, inspector: Party, lot: dict[str, Any]
) -> None:
    assert write_path.settings.idempotency_key_hours == 24
    first = post(write_path, supplier, by_key(lot), PRODUCED, key="old-key")
    post(write_path, inspector, by_key(lot), {"time": TIME, "kind": "inspected"})
    age_keys(write_path, 23.9)
    kept = post(write_path, supplier, by_key(lot), PRODUCED, key="old-key")
    assert kept.status_code == 200 and kept.json() == first.json()

    # Past the retention the key is unknown: the request is a new one, and takes the key.
    age_keys(write_path, 24.1)
    anew = post(write_path, supplier, by_key(lot), PRODUCED, key="old-key")
    assert anew.status_code == 201, anew.text
    assert anew.json()["digest"] != first.json()["digest"]
    again = post(write_path, supplier, by_key(lot), PRODUCED, key="old-key")
    assert again.status_code == 200 and again.json() == anew.json()


def test_the_periodic_purge_deletes_expired_keys_only(
    write_path: WritePath, supplier: Party, lot: dict[str, Any]
) -> None:
    post(write_path, supplier, by_key(lot), PRODUCED, key="expired")
    age_keys(write_path, 25)
    shipped = {"time": TIME, "kind": "shipped", "destinations": [{"gln": gln(312)}]}
    post(write_path, supplier, by_key(lot), shipped, key="fresh")
    with write_path.session() as session:
        assert purge_expired_keys(session, write_path.settings, now=utc_now()) == 1
        assert session.scalars(select(IdempotencyKey.key)).all() == ["fresh"]
        # A day later, the fresh one goes too.
        later = utc_now() + timedelta(hours=24.01)
        assert purge_expired_keys(session, write_path.settings, now=later) == 1
        assert session.scalars(select(IdempotencyKey.key)).all() == []
    assert len(events_of(write_path, lot)) == 2  # the events stay


ROUNDS = 4
RETRIES = 3


def test_concurrent_requests_with_one_key_record_one_event(
    write_path: WritePath, supplier: Party, inspector: Party
) -> None:
    """Each round: the same keyed request several times at once, with another writer's event
    on the same lot among them. However they interleave, the key's request is recorded once."""

    def send(lot: dict[str, Any], start: threading.Barrier, i: int) -> Any:
        start.wait()
        if i == RETRIES:
            return post(write_path, inspector, by_key(lot), {"time": TIME, "kind": "inspected"})
        return post(write_path, supplier, by_key(lot), PRODUCED, key=f"race-{lot['lot_code']}")

    lots = [write_path.lot(supplier, gtin(320 + n), f"RACE-{n}") for n in range(ROUNDS)]
    for lot in lots:
        start = threading.Barrier(RETRIES + 1)
        with ThreadPoolExecutor(RETRIES + 1) as pool:
            *keyed, other = list(pool.map(partial(send, lot, start), range(RETRIES + 1)))
        assert other.status_code == 201, other.text
        assert sorted(r.status_code for r in keyed) == [200] * (RETRIES - 1) + [201], [
            r.text for r in keyed
        ]
        assert len({r.json()["digest"] for r in keyed}) == 1
        assert len(events_of(write_path, lot)) == 2


def test_one_key_sent_for_two_lots_at_once_records_one(
    write_path: WritePath, supplier: Party
) -> None:
    lots = [write_path.lot(supplier, gtin(330 + n), f"TWIN-{n}") for n in range(2)]
    start = threading.Barrier(2)

    def send(lot: dict[str, Any]) -> Any:
        start.wait()
        return post(write_path, supplier, by_key(lot), PRODUCED, key="twin")

    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(send, lots))
    assert sorted(r.status_code for r in responses) == [201, 422], [r.text for r in responses]
    refused = next(r for r in responses if r.status_code == 422)
    assert refused.json()["field"] == "Idempotency-Key"
    assert sorted(len(events_of(write_path, lot)) for lot in lots) == [0, 1]


def test_the_openapi_document_describes_the_header_and_its_retention(
    write_path: WritePath,
) -> None:
    paths = write_path.client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/lots/{lot_key}/checkpoints",
        "/api/v1/lots/{gtin}/{lot_code}/checkpoints",
    ):
        (header,) = [p for p in paths[path]["post"]["parameters"] if p["in"] == "header"]
        assert header["name"] == "Idempotency-Key" and not header["required"]
        assert "24 hours (LOTLINK_IDEMPOTENCY_KEY_HOURS)" in header["description"]
        assert set(paths[path]["post"]["responses"]) >= {"200", "201", "400", "422"}
