"""Bulk loading of generated rows into a migrated, empty database, the fast way each backend
offers: one transaction of ``executemany`` for SQLite, ``COPY … FROM STDIN`` for PostgreSQL.

Rows are written as the models store them (lowercase 0x-hex text, UTC instants), bypassing the
ORM: a million lots through SQLAlchemy's per-value type processing would take far longer than
the benchmark they feed. As pg_restore does, secondary indexes (and on PostgreSQL, foreign
keys) are dropped before the load and built again after it, from the models' own definitions:
one sort per index instead of millions of random inserts into index pages keyed by hashes.
Foreign keys are checked all the same (SQLite row by row; PostgreSQL when each is added back),
and primary keys and unique constraints stay on throughout, so rows that break the schema fail
here rather than skew a measurement.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable

import psycopg
from sqlalchemy import Dialect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import (
    AddConstraint,
    CreateIndex,
    DropConstraint,
    DropIndex,
    ExecutableDDLElement,
)

from lotlink import models
from lotlink.bench.graph import Table
from lotlink.db import normalize_database_url


def _set_aside(dialect: Dialect, *, foreign_keys: bool) -> tuple[list[str], list[str]]:
    """DDL that drops every secondary index (and foreign key) of the models, and DDL that
    builds them again; the database is empty, so tables the load leaves alone cost nothing."""
    tables = models.Base.metadata.sorted_tables
    indexes = [index for table in tables for index in table.indexes]
    keys = (
        [key for table in tables for key in table.foreign_key_constraints] if foreign_keys else []
    )
    drop: list[ExecutableDDLElement] = [*map(DropConstraint, keys), *map(DropIndex, indexes)]
    build: list[ExecutableDDLElement] = [*map(CreateIndex, indexes), *map(AddConstraint, keys)]
    return (
        [str(element.compile(dialect=dialect)) for element in drop],
        [str(element.compile(dialect=dialect)) for element in build],
    )


def load_tables(url: str, tables: Iterable[Table]) -> dict[str, int]:
    """Writes `tables` into the database at `url` (migrated, empty) and analyses it; returns
    how many rows went into each table."""
    parsed = normalize_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _load_sqlite(str(parsed.database), tables)
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    return _load_postgres(conninfo, tables)


def _load_sqlite(path: str, tables: Iterable[Table]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        # A fresh file that is thrown away on failure: no journal, no syncs; a big page cache
        # because every index of the checkpoint tables is keyed by hashes (random inserts).
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "foreign_keys=ON",
                       "cache_size=-524288"):  # fmt: skip
            connection.execute(f"PRAGMA {pragma}")
        connection.execute("BEGIN")
        # SQLite cannot drop a foreign key; it checks them row by row instead.
        drop, build = _set_aside(sqlite.dialect(), foreign_keys=False)
        for statement in drop:
            connection.execute(statement)
        for table in tables:
            marks = ", ".join("?" * len(table.columns))
            connection.executemany(
                f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({marks})",
                table.rows,
            )
            counts[table.name] += len(table.rows)
        for statement in build:
            connection.execute(statement)
        connection.execute("COMMIT")
        connection.execute("PRAGMA journal_mode=WAL")  # as the service runs it
    finally:
        connection.close()
    return dict(counts)


def _load_postgres(conninfo: str, tables: Iterable[Table]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    with psycopg.connect(conninfo) as connection:
        with connection.cursor() as cursor:
            # The rows' instants are UTC without an offset.
            cursor.execute("SET TIME ZONE 'UTC'")
            drop, build = _set_aside(postgresql.dialect(), foreign_keys=True)
            for statement in drop:
                cursor.execute(statement)
            for table in tables:
                statement = f"COPY {table.name} ({', '.join(table.columns)}) FROM STDIN"
                with cursor.copy(statement) as copy:
                    for row in table.rows:
                        copy.write_row(row)
                counts[table.name] += len(table.rows)
            for statement in build:  # each foreign key is checked as it is added
                cursor.execute(statement)
        connection.commit()
        # Autovacuum would analyse the new rows within a minute; the benchmark measures the
        # steady state at once.
        connection.autocommit = True
        connection.execute("ANALYZE")
    return dict(counts)
