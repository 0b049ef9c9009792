"""One anchorer per database: the service's and `lotlink anchorer` never batch the same outbox.

PostgreSQL: a session advisory lock held on a dedicated connection. SQLite: an exclusive
``flock`` on a file beside the database (SQLite is one machine's database, so one machine's
lock suffices). Either is released when its holder dies, so a killed anchorer never blocks
its successor.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from lotlink.db.engine import begin_read_only

#: pg_try_advisory_lock key of the anchorer ("ANCHOR" in ASCII).
ANCHORER_LOCK_KEY = 0x414E43484F52


class AnchorerLock:
    """Try to become the database's one anchorer; `release` (or process death) gives it up."""

    def __init__(self, engine: Engine, *, var_dir: Path) -> None:
        self.engine = engine
        self.var_dir = var_dir
        self._connection: Connection | None = None
        self._fd: int | None = None

    def _lock_path(self) -> Path:
        database = self.engine.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            return Path(database).with_name(Path(database).name + ".anchorer.lock")
        return self.var_dir / "anchorer.lock"

    def try_acquire(self) -> bool:
        if self._connection is not None or self._fd is not None:
            return True
        if self.engine.dialect.name == "postgresql":
            connection = self.engine.connect()
            held = connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ANCHORER_LOCK_KEY}
            )
            connection.commit()
            if held:
                self._connection = connection
                return True
            connection.close()
            return False
        path = self._lock_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": ANCHORER_LOCK_KEY}
                )
                self._connection.commit()
            finally:
                self._connection.close()
                self._connection = None
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@contextmanager
def write_transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction that will write, committed at the end. On SQLite a writing session's
    transaction begins IMMEDIATE (`lotlink.db.engine`): it holds the database's one writer from
    its first statement, so hold it only to write."""
    with sessions.begin() as session:
        yield session


@contextmanager
def read_transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction that only reads: on SQLite a deferred one, which takes no write lock, so
    the anchorer's polling never holds up the API's writes."""
    with sessions() as session:
        begin_read_only(session)
        yield session
