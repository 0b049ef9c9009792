"""Engines and sessions, SQLAlchemy 2.0 style, for the embedded SQLite default and PostgreSQL.

SQLite gets the pragmas a multi-threaded service needs: WAL (readers never wait for the
writer), foreign keys enforced (off by default in SQLite), and a busy timeout so a second writer
waits for the lock instead of failing at once. PostgreSQL URLs are routed to psycopg 3.
"""

from __future__ import annotations

import sqlite3
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from lotlink.config import get_settings
from lotlink.db.wal_checkpoints import WalCheckpoints
from lotlink.db.writer_gate import WriterGate
from lotlink.errors import DatabaseBusyError, DatabaseError

#: Execution option marking a connection's transactions read-only (SQLite: deferred BEGIN).
READ_ONLY_OPTION = "lotlink_read_only"

#: Execution option giving a connection's writes priority at SQLite's writer gate (the
#: anchorer's: see `lotlink.db.writer_gate.WriterGate`).
WRITER_PRIORITY_OPTION = "lotlink_writer_priority"

#: How long (milliseconds) SQLite itself waits for a lock before giving up (the writer gate has
#: already queued writers; this covers what it cannot see, e.g. a checkpoint of the WAL).
SQLITE_BUSY_TIMEOUT_MS = 10_000

#: How long (seconds) a SQLite writer waits for the writers queued before it in this process.
SQLITE_WRITER_QUEUE_SECONDS = 120.0

_gates: dict[str, WriterGate] = {}
_checkpoints: dict[str, WalCheckpoints] = {}
_gates_lock = threading.Lock()


def _database_file(url: URL) -> Path | None:
    """The file of a SQLite URL; None for a database of one engine alone (in memory)."""
    database = url.database or ""
    if database in {"", ":memory:"} or database.startswith("file:"):
        return None
    return Path(database).expanduser().resolve()


def _writer_gate(url: URL) -> WriterGate:
    """The writer gate of a SQLite database, shared by all the engines of this process."""
    if (path := _database_file(url)) is None:
        return WriterGate(None)
    with _gates_lock:
        return _gates.setdefault(str(path), WriterGate(path.with_name(path.name + ".writer.lock")))


def _wal_checkpoints(url: URL) -> WalCheckpoints | None:
    """The WAL checkpoint schedule of a SQLite database file, one per process."""
    if (path := _database_file(url)) is None:
        return None
    with _gates_lock:
        return _checkpoints.setdefault(str(path), WalCheckpoints())


_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg"}


def normalize_database_url(url: str | URL) -> URL:
    """Parse ``url`` and pick Lotlink's driver: ``postgres(ql)://`` becomes psycopg 3.

    Only SQLite and PostgreSQL are supported; anything else is refused here, once, rather than
    failing later on a type or a pragma.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise DatabaseError(url=str(url), reason=f"not a database URL ({error})") from None
    if parsed.drivername in _POSTGRES_SCHEMES:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in {"sqlite", "sqlite+pysqlite"}:
        return parsed
    raise DatabaseError(
        url=redact_url(parsed),
        reason=f"unsupported database {parsed.drivername!r}: use sqlite:/// or postgresql://",
    )


def redact_url(url: str | URL) -> str:
    """``url`` with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def make_engine(url: str | URL, **engine_options: Any) -> Engine:
    """A new engine for ``url`` with Lotlink's per-backend settings; ``engine_options`` are
    passed on to :func:`sqlalchemy.create_engine` (e.g. ``echo=True``, ``poolclass=...``)."""
    parsed = normalize_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite_file(parsed)
        # A SQLite connection is a file handle: let every request thread (anyio's 40) and the
        # background workers hold one at once rather than queue for 30 s behind a pool of 15.
        database = parsed.database or ""
        if database not in {"", ":memory:"} and "poolclass" not in engine_options:
            engine_options.setdefault("pool_size", 8)
            engine_options.setdefault("max_overflow", 64)
        engine_options.setdefault("connect_args", {})["factory"] = _GatedConnection
        engine = create_engine(parsed, **engine_options)
        # An executemany of rows is sent as multi-row INSERTs (SQLAlchemy's "insertmanyvalues",
        # which SQLite's dialect uses only with RETURNING): one statement per page of rows instead
        # of one per row. pysqlite lets go of the interpreter lock for every statement it steps,
        # and the writer, holding the database's one write lock, then queued to get it back
        # behind the request threads hashing, once per row.
        engine.dialect.use_insertmanyvalues_wo_returning = True
        _install_sqlite_hooks(engine, _writer_gate(parsed), _wal_checkpoints(parsed))
        return engine
    engine_options.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **engine_options)


def make_session_factory(engine: Engine, *, writer_priority: bool = False) -> sessionmaker[Session]:
    """Sessions bound to ``engine``. Objects stay readable after commit (no expiry), because
    services commit and then hand the rows to response schemas. `writer_priority`: their
    writes go first at SQLite's writer gate."""
    if writer_priority:
        engine = engine.execution_options(**{WRITER_PRIORITY_OPTION: True})
    return sessionmaker(bind=engine, expire_on_commit=False)


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that only read: on SQLite they never take the write lock, so pages and exports
    are not queued behind the anchorer's or the indexer's writes."""
    return sessionmaker(
        bind=engine.execution_options(**{READ_ONLY_OPTION: True}), expire_on_commit=False
    )


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The process-wide engine for the configured database (``LOTLINK_DATABASE_URL``)."""
    return make_engine(get_settings().effective_database_url)


@lru_cache(maxsize=1)
def get_session_factory() -> sessionmaker[Session]:
    """The process-wide session factory, bound to :func:`get_engine`."""
    return make_session_factory(get_engine())


def _prepare_sqlite_file(url: URL) -> None:
    """Create the directory of a file database (``var/`` on a fresh clone)."""
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        try:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatabaseError(url=redact_url(url), reason=str(error)) from None


def _install_sqlite_hooks(
    engine: Engine, gate: WriterGate, checkpoints: WalCheckpoints | None
) -> None:
    """Pragmas on every new connection, and explicit BEGIN.

    pysqlite's own transaction handling starts transactions late and silently commits before
    DDL, which breaks SAVEPOINT and transactional migrations; the documented SQLAlchemy recipe
    turns it off and emits BEGIN itself.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            # FULL: a commit is on disk (the WAL fsynced) before it returns, so an event answered
            # 201 survives a power loss too; NORMAL could lose the last commits. ~2 ms a commit
            # here, and a capture commits once for all its events.
            cursor.execute("PRAGMA synchronous=FULL")
            # Checkpoints run after commits, outside the write lock (`lotlink.db.wal_checkpoints`).
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        finally:
            cursor.close()
        dbapi_connection.checkpoints = checkpoints

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A transaction that may write takes the write lock at once (IMMEDIATE): under WAL, a
        # deferred transaction that reads and then writes after another writer committed fails
        # at once with "database is locked" (its snapshot is stale), busy timeout or not. With
        # IMMEDIATE, writers queue under busy_timeout instead. Read-only sessions keep a deferred
        # BEGIN, so readers never wait for writers.
        if connection.get_execution_options().get(READ_ONLY_OPTION, False):
            connection.exec_driver_sql("BEGIN")
            return
        priority = connection.get_execution_options().get(WRITER_PRIORITY_OPTION, False)
        if not gate.acquire(timeout=SQLITE_WRITER_QUEUE_SECONDS, priority=priority):
            raise DatabaseBusyError(waited=SQLITE_WRITER_QUEUE_SECONDS)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            gate.release()
            raise
        connection.connection.dbapi_connection.hold(gate)

    # The gate is let go by the DB-API connection once its transaction has ended (see
    # `_GatedConnection`); these cover a connection dropped without that.
    @event.listens_for(engine, "invalidate")
    def _on_invalidate(dbapi_connection: Any, _record: Any, _exception: Any) -> None:
        dbapi_connection.let_go()

    @event.listens_for(engine, "soft_invalidate")
    def _on_soft_invalidate(dbapi_connection: Any, _record: Any, _exception: Any) -> None:
        dbapi_connection.let_go()


class _GatedConnection(sqlite3.Connection):
    """A SQLite connection that lets go of the writer gate once its write transaction has
    ended: after COMMIT returns (its WAL fsynced), not before. Let go earlier, as SQLAlchemy's
    commit event would, the next writer's BEGIN IMMEDIATE meets the lock still held for the
    fsync and falls into SQLite's busy handler, which sleeps 1, 2, 5, 10 ms… between tries.
    Then, with the gate let go, it checkpoints the WAL when one is due."""

    _gate: WriterGate | None = None
    checkpoints: WalCheckpoints | None = None

    def hold(self, gate: WriterGate) -> None:
        self._gate = gate

    def let_go(self) -> None:
        gate, self._gate = self._gate, None
        if gate is not None:
            gate.release()

    def commit(self) -> None:
        wrote = self._gate is not None
        try:
            super().commit()
        finally:
            self.let_go()
        if wrote and self.checkpoints is not None:
            self.checkpoints.after_commit(self)

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.let_go()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.let_go()


def begin_read_only(session: Session) -> None:
    """Ends `session`'s transaction and begins one that only reads (on SQLite a deferred BEGIN,
    which takes no write lock): for the checks a write makes before it takes its locks."""
    session.commit()
    session.connection(execution_options={READ_ONLY_OPTION: True})
