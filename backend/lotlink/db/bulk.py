"""Helpers for statements over many rows: Core tables of ORM models, IN lists in chunks, and
which of many values a column holds."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.orm import DeclarativeBase

#: Values per IN (...) list: under SQLite's and psycopg's parameter limits.
IN_CHUNK = 900


def table_of(model: type[DeclarativeBase]) -> Table:
    """The Core table of an ORM model (typed: ``__table__`` is only a FromClause to mypy)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for offset in range(0, len(values), size):
        yield values[offset : offset + size]


def existing(conn: Connection, column: Any, values: Sequence[Any]) -> set[Any]:
    """Which of `values` are present in `column` (one query per chunk)."""
    found: set[Any] = set()
    unique = list(dict.fromkeys(values))
    for chunk in chunks(unique):
        found.update(conn.execute(select(column).where(column.in_(chunk))).scalars())
    return found
