"""The indexer's durable position and its single-writer lock.

The cursor (last applied block, by number and hash) and the hashes of the unconfirmed window
are written in the same transaction as the logs of each range, so after any crash the index,
the cursor and the window agree. One writer at a time: a PostgreSQL session advisory lock, or
on SQLite an exclusive lock on a file beside the database; a second indexer waits for it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, delete, select, text

from lotlink.indexer.fetch import Header
from lotlink.indexer.sql import table_of, upsert
from lotlink.models import IndexedBlock, IndexerCursor
from lotlink.models.types import utc_now

CURSOR_NAME = "lotlink"
#: pg_advisory_lock key of the indexer writer: the first 8 bytes of keccak256("lotlink.indexer").
ADVISORY_LOCK_KEY = 0x1D7A_3C5E_11AB_0F42


@dataclass(frozen=True, slots=True)
class Cursor:
    """The last block whose logs are applied; its hash tells whether the chain still has it."""

    block_number: int
    block_hash: str


def load_cursor(conn: Connection, name: str = CURSOR_NAME) -> Cursor | None:
    table = table_of(IndexerCursor)
    row = conn.execute(
        select(table.c.block_number, table.c.block_hash).where(table.c.name == name)
    ).first()
    return None if row is None else Cursor(int(row[0]), str(row[1]))


def save_cursor(conn: Connection, cursor: Cursor, name: str = CURSOR_NAME) -> None:
    upsert(
        conn,
        table_of(IndexerCursor),
        [
            {
                "name": name,
                "block_number": cursor.block_number,
                "block_hash": cursor.block_hash,
                "updated_at": utc_now(),
            }
        ],
        keys=["name"],
        update_columns=["block_number", "block_hash", "updated_at"],
    )


def keep_blocks(
    conn: Connection, headers: list[Header], *, floor: int, name: str = CURSOR_NAME
) -> None:
    """Remember `headers` (the unconfirmed window) and forget kept blocks below `floor`."""
    table = table_of(IndexedBlock)
    upsert(
        conn,
        table,
        [
            {"cursor_name": name, "number": h.number, "hash": h.hash, "parent_hash": h.parent_hash}
            for h in headers
        ],
        keys=["cursor_name", "number"],
        update_columns=["hash", "parent_hash"],
    )
    conn.execute(delete(table).where(table.c.cursor_name == name, table.c.number < floor))


def kept_blocks(conn: Connection, name: str = CURSOR_NAME) -> list[tuple[int, str]]:
    """The window's (number, hash), newest first."""
    table = table_of(IndexedBlock)
    rows = conn.execute(
        select(table.c.number, table.c.hash)
        .where(table.c.cursor_name == name)
        .order_by(table.c.number.desc())
    )
    return [(int(number), str(block_hash)) for number, block_hash in rows]


def forget_blocks_above(conn: Connection, number: int, name: str = CURSOR_NAME) -> None:
    table = table_of(IndexedBlock)
    conn.execute(delete(table).where(table.c.cursor_name == name, table.c.number > number))


@contextlib.contextmanager
def writer_lock(
    engine: Engine, *, stop: threading.Event | None = None, poll: float = 0.5
) -> Iterator[bool]:
    """Holds the single-writer lock while the block runs; waits for it first.

    Yields False (lock not taken) only when `stop` is set while waiting.
    """
    if engine.dialect.name == "postgresql":
        with _postgres_lock(engine, stop=stop, poll=poll) as held:
            yield held
        return
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        yield True
        return
    with _file_lock(Path(f"{database}.indexer.lock"), stop=stop, poll=poll) as held:
        yield held


@contextlib.contextmanager
def _postgres_lock(engine: Engine, *, stop: threading.Event | None, poll: float) -> Iterator[bool]:
    # A dedicated connection: a session advisory lock lives exactly as long as its session,
    # so a killed indexer releases it with its connection.
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        while True:
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            ).scalar()
            if taken:
                break
            if _wait(stop, poll):
                yield False
                return
        try:
            yield True
        finally:
            with contextlib.suppress(Exception):
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY}
                )
    finally:
        connection.close()


@contextlib.contextmanager
def _file_lock(path: Path, *, stop: threading.Event | None, poll: float) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[bytes] = open(path, "ab")  # noqa: SIM115  (held across the yield)
    try:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if _wait(stop, poll):
                    yield False
                    return
        handle.truncate(0)
        handle.write(str(os.getpid()).encode())
        handle.flush()
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


def _wait(stop: threading.Event | None, poll: float) -> bool:
    """Sleeps `poll` seconds; True when asked to stop meanwhile."""
    if stop is None:
        threading.Event().wait(poll)
        return False
    return stop.wait(poll)
