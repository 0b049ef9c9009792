"""Group commit: captures waiting together are stored in one transaction, each all or none."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select

from fixtures.writepath import WritePath, gln, gtin
from lotlink.epcis.build import CONTEXT, PREVIOUS
from lotlink.errors import StaleHeadError, WriterStoppedError
from lotlink.models import Checkpoint, Lot, OutboxEntry
from lotlink.services.actors import get_actor
from lotlink.services.capture_writer import CaptureWriter
from lotlink.services.checkpoints import PreparedEvents
from lotlink.services.submissions import prepare_capture
from lotlink.vocabulary import Role


def _document(lot: dict[str, Any], minute: int, **extra: Any) -> dict[str, Any]:
    event = {
        "type": "ObjectEvent",
        "eventTime": f"2025-03-01T09:{minute:02d}:00.000Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "quantityList": [{"epcClass": lot["digital_link"], "quantity": 5, "uom": "KGM"}],
        "bizStep": "inspecting",
        "disposition": "conformant",
        "readPoint": {"id": f"https://id.gs1.org/414/{gln(950)}"},
        **extra,
    }
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2025-03-01T10:00:00.000Z",
        "epcisBody": {"eventList": [event]},
    }


def test_waiting_captures_share_one_commit_and_one_failing_keeps_nothing(
    write_path: WritePath,
) -> None:
    supplier = write_path.actor(Role.SUPPLIER)
    first = write_path.lot(supplier, gtin(61), "GROUP-1")
    second = write_path.lot(supplier, gtin(62), "GROUP-2")
    stale = "ni:///sha-256;" + "ab" * 32 + "?ver=CBV2.0"
    documents = [
        _document(first, 1),
        _document(second, 2, **{PREVIOUS: [stale]}),  # names a head the lot never had
        _document(second, 3),
        _document(first, 4),  # after the first capture's event, in the same transaction
    ]
    prepared: list[PreparedEvents] = []
    with write_path.session() as session:
        actor = get_actor(session, supplier.address)
        for body in documents:
            prepared.append(
                prepare_capture(session, write_path.chain, actor, body, signatures=None)
            )
    engine = write_path.sessions.kw["bind"]
    commits: list[object] = []

    def count(connection: object) -> None:
        commits.append(connection)

    event.listen(engine, "commit", count)
    writer = CaptureWriter(write_path.sessions, write_path.chain)
    try:
        futures = [writer.submit(p) for p in prepared]  # all waiting before the thread starts
        writer.start()
        answers = [f.exception(timeout=60) or f.result() for f in futures]
    finally:
        writer.stop()
        event.remove(engine, "commit", count)
    assert len(commits) == 1
    assert isinstance(answers[1], StaleHeadError)
    stored = [a[0].checkpoint for a in (answers[0], answers[2], answers[3])]  # type: ignore[index]
    assert stored[2].previous == {first["lot_key"]: stored[0].digest}
    with write_path.session() as session:
        digests = set(session.scalars(select(Checkpoint.digest)))
        assert digests >= {s.digest for s in stored} and len(digests) == 3
        assert len(session.scalars(select(OutboxEntry)).all()) == 3
        heads = {lot.lot_key: lot.head_digest for lot in session.scalars(select(Lot))}
        assert heads[first["lot_key"]] == stored[2].digest
        assert heads[second["lot_key"]] == stored[1].digest


def test_a_stopped_writer_stores_what_was_waiting_and_takes_no_more(
    write_path: WritePath,
) -> None:
    supplier = write_path.actor(Role.SUPPLIER)
    lot = write_path.lot(supplier, gtin(63), "GROUP-3")
    with write_path.session() as session:
        actor = get_actor(session, supplier.address)
        prepared = prepare_capture(
            session, write_path.chain, actor, _document(lot, 5), signatures=None
        )
    writer = CaptureWriter(write_path.sessions, write_path.chain)
    future = writer.submit(prepared)
    writer.start()
    writer.stop()
    assert future.result(timeout=0)[0].created
    with pytest.raises(WriterStoppedError, match="stopping"):
        writer.submit(prepared)


def test_a_capture_cancelled_while_waiting_is_never_written(write_path: WritePath) -> None:
    supplier = write_path.actor(Role.SUPPLIER)
    lot = write_path.lot(supplier, gtin(64), "GROUP-4")
    with write_path.session() as session:
        actor = get_actor(session, supplier.address)
        dropped, kept = (
            prepare_capture(session, write_path.chain, actor, _document(lot, m), signatures=None)
            for m in (6, 7)
        )
    writer = CaptureWriter(write_path.sessions, write_path.chain)
    cancelled, written = writer.submit(dropped), writer.submit(kept)
    assert cancelled.cancel()  # the request went away before the writer took it
    writer.start()
    try:
        record = written.result(timeout=60)[0].checkpoint
    finally:
        writer.stop()
    assert record.previous == {lot["lot_key"]: None}  # the cancelled one is not its head
    with write_path.session() as session:
        assert list(session.scalars(select(Checkpoint.digest))) == [record.digest]


def test_captures_that_all_succeed_are_written_with_one_statement_per_step(
    write_path: WritePath,
) -> None:
    supplier = write_path.actor(Role.SUPPLIER)
    lots = [write_path.lot(supplier, gtin(65 + i), f"GROUP-{5 + i}") for i in range(3)]
    with write_path.session() as session:
        actor = get_actor(session, supplier.address)
        prepared = [
            prepare_capture(session, write_path.chain, actor, _document(lot, 8), signatures=None)
            for lot in lots
        ]
    engine = write_path.sessions.kw["bind"]
    inserts: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO CHECKPOINT "):
            inserts.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    writer = CaptureWriter(write_path.sessions, write_path.chain)
    try:
        futures = [writer.submit(p) for p in prepared]
        writer.start()
        records = [f.result(timeout=60)[0].checkpoint for f in futures]
    finally:
        writer.stop()
        event.remove(engine, "before_cursor_execute", note)
    assert len(inserts) == 1  # the three captures' events in one INSERT
    assert [r.primary_lot_key for r in records] == [lot["lot_key"] for lot in lots]
    with write_path.session() as session:
        heads = {lot.lot_key: lot.head_digest for lot in session.scalars(select(Lot))}
    assert all(heads[r.primary_lot_key] == r.digest for r in records)
