"""Portable bulk writes for the indexer: upserts keyed by the chain's keys, on SQLite and
PostgreSQL alike, one executemany per statement."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lotlink.db.bulk import chunks, existing, table_of

__all__ = ["chunks", "existing", "rows_where_in", "table_of", "update_by_key", "upsert"]


def rows_where_in(
    conn: Connection, table: Table, key: str, values: Iterable[str], columns: Sequence[str]
) -> list[tuple[Any, ...]]:
    """(`key`, *`columns`) of the rows of `table` whose `key` is one of `values`.

    Asked at the driver, and fetched at once: the values come in the column's canonical form
    already (the decoder's and the tree's lowercase hex; anything else only matches nothing),
    and a batch asks about a thousand of them, each of which SQLAlchemy would bind and check."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    selected = ", ".join(table.c[name].name for name in (key, *columns))
    found: list[tuple[Any, ...]] = []
    for chunk in chunks(list(dict.fromkeys(values))):
        found += conn.exec_driver_sql(
            f"SELECT {selected} FROM {table.name} "
            f"WHERE {table.c[key].name} IN ({', '.join([mark] * len(chunk))})",
            tuple(chunk),
        ).fetchall()
    return found


def upsert(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    keys: Sequence[str],
    update_columns: Iterable[str] = (),
) -> None:
    """Insert `rows`; where a row with the same `keys` exists, overwrite `update_columns`
    (nothing when empty). Rows must not repeat a key: callers fold duplicates first."""
    if not rows:
        return
    insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    statement = insert(table)
    columns = list(update_columns)
    if columns:
        statement = statement.on_conflict_do_update(
            index_elements=list(keys), set_={c: statement.excluded[c] for c in columns}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    conn.execute(statement, rows)


def update_by_key(conn: Connection, table: Table, rows: list[dict[str, Any]], *, key: str) -> None:
    """`UPDATE table SET … WHERE key = :key` for each row (executemany, in order: a later row
    for the same key wins). Each row holds ``key`` and the columns to set."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != key]
    statement = (
        update(table)
        .where(table.c[key] == bindparam(f"k_{key}"))
        .values({c: bindparam(f"v_{c}") for c in columns})
    )
    conn.execute(
        statement,
        [{f"k_{key}": row[key], **{f"v_{c}": row[c] for c in columns}} for row in rows],
    )
