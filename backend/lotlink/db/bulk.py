"""Helpers for statements over many rows: Core tables of ORM models, and IN lists in chunks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Table
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
