"""Helpers for statements over many rows: Core tables of ORM models, IN lists in chunks, and
which of many values a column holds."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import NullType, TypeDecorator

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


class _Bound(TypeDecorator[Any]):
    """A value that went through its column's type already: bound as it is, with no cast."""

    impl = NullType
    cache_ok = True


def insert_sharing(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], *, shared: Mapping[str, Any]
) -> None:
    """INSERT `rows` (one executemany), each row with the `shared` column values besides its own.

    An executemany binds every value of every row through its column's type; a shared value goes
    through it once here, for all rows (a batch's receipts share seven of their ten columns), and
    is then bound as it came out, so it is checked and stored exactly as if bound with each row."""
    if not rows:
        return
    values = {}
    for name, value in shared.items():
        process = table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        processed = value if process is None or value is None else process(value)
        values[name] = bindparam(f"shared_{name}", processed, type_=_Bound())
    conn.execute(insert(table).values(values), list(rows))
