"""Column types: instants go in aware and come back aware, in UTC, on SQLite as on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text

from lotlink.models.types import Hex32, HexBlob, UtcDateTime


def test_sqlite_instants_read_back_aware_in_utc_and_compare_in_sql() -> None:
    engine = create_engine("sqlite://")
    metadata = MetaData()
    table = Table("t", metadata, Column("id", Integer, primary_key=True), Column("at", UtcDateTime))
    metadata.create_all(engine)
    paris = timezone(timedelta(hours=1))
    written = [
        datetime(2026, 3, 1, 10, 30, 5, 123456, tzinfo=paris),
        datetime(2026, 3, 1, 9, 30, 5, tzinfo=UTC),  # the same day, a whole second
        None,
    ]
    with engine.begin() as conn:
        conn.execute(insert(table), [{"id": i, "at": at} for i, at in enumerate(written)])
        # Text SQLite wrote itself (a CURRENT_TIMESTAMP default) reads back too.
        conn.execute(text("INSERT INTO t (id, at) VALUES (3, '2026-03-01 12:00:00')"))
        rows = dict(conn.execute(select(table.c.id, table.c.at)).all())
        # Stored as SQLAlchemy's SQLite DATETIME writes it, in UTC, always with microseconds
        # (text compares in time order only if every value has the same shape).
        stored = dict(conn.execute(text("SELECT id, at FROM t WHERE id < 2")).all())
        assert stored == {0: "2026-03-01 09:30:05.123456", 1: "2026-03-01 09:30:05.000000"}
        earlier = conn.execute(
            select(table.c.id).where(table.c.at < datetime(2026, 3, 1, 9, 30, 5, 1, tzinfo=UTC))
        ).scalars()
        assert sorted(earlier) == [1]
    assert rows[0] == written[0] and rows[0].tzinfo is UTC
    assert rows[1] == written[1] and rows[2] is None
    assert rows[3] == datetime(2026, 3, 1, 12, tzinfo=UTC)
    with pytest.raises(Exception, match="timezone-aware"), engine.begin() as conn:
        conn.execute(insert(table), [{"id": 9, "at": datetime(2026, 3, 1)}])


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("0x" + "ab" * 32, "0x" + "ab" * 32),
        ("0x" + "AB" * 32, "0x" + "ab" * 32),
        ("ab" * 32, "0x" + "ab" * 32),
        (bytes(range(32)), "0x" + bytes(range(32)).hex()),
    ],
)
def test_bytes32_columns_store_one_canonical_spelling(value: object, stored: str) -> None:
    engine = create_engine("sqlite://")
    metadata = MetaData()
    table = Table("h", metadata, Column("id", Integer, primary_key=True), Column("v", Hex32))
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"id": 1, "v": value}])
        assert conn.execute(text("SELECT v FROM h")).scalar_one() == stored


@pytest.mark.parametrize(
    "value",
    [
        "0x" + "ab" * 31,  # too short
        "0x" + "ab" * 31 + "a\n",  # a trailing newline is not hex ("$" would have let it in)
        "0x" + "zz" * 32,
        "0x" + "ab" * 33,
        12,
    ],
)
def test_bytes32_columns_refuse_what_is_not_32_bytes_of_hex(value: object) -> None:
    engine = create_engine("sqlite://")
    metadata = MetaData()
    table = Table("h", metadata, Column("id", Integer, primary_key=True), Column("v", Hex32))
    metadata.create_all(engine)
    with pytest.raises(Exception, match="bytes32"), engine.begin() as conn:
        conn.execute(insert(table), [{"id": 1, "v": value}])


def test_variable_length_hex_must_have_whole_bytes() -> None:
    engine = create_engine("sqlite://")
    metadata = MetaData()
    table = Table("b", metadata, Column("id", Integer, primary_key=True), Column("v", HexBlob))
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"id": 1, "v": "0xABCD"}, {"id": 2, "v": b"\x01"}])
        assert list(conn.execute(text("SELECT v FROM b ORDER BY id")).scalars()) == [
            "0xabcd",
            "0x01",
        ]
        with pytest.raises(Exception, match="not hex"):
            conn.execute(insert(table), [{"id": 3, "v": "0xabc"}])
