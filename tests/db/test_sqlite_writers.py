"""On SQLite, a transaction that reads and then writes must wait for a concurrent writer, never
fail with "database is locked" (the anchorer, the indexer and requests all write at once)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from lotlink.db import engine as engine_module
from lotlink.db.engine import (
    begin_read_only,
    make_engine,
    make_read_session_factory,
    make_session_factory,
)
from lotlink.errors import DatabaseBusyError


def test_a_reader_turned_writer_waits_for_another_writer(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    sessions = make_session_factory(engine)
    with sessions() as session:
        session.execute(text("CREATE TABLE head (lot TEXT PRIMARY KEY, digest TEXT)"))
        session.execute(text("INSERT INTO head VALUES ('lot', 'a')"))
        session.commit()
    first_wrote = threading.Event()
    second_read = threading.Event()
    failures: list[BaseException] = []

    def first_writer() -> None:
        with sessions() as session:
            session.execute(text("UPDATE head SET digest = 'b'"))
            first_wrote.set()
            second_read.wait(timeout=0.5)  # the second one has read (or is waiting to begin)
            session.commit()

    def second_writer() -> None:
        first_wrote.wait()
        try:
            with sessions() as session:
                current = session.execute(text("SELECT digest FROM head")).scalar_one()
                second_read.set()
                session.execute(text("UPDATE head SET digest = :d"), {"d": current + "+c"})
                session.commit()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=first_writer), threading.Thread(target=second_writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures, failures
    with make_read_session_factory(engine)() as session:
        # The second writer read after the first committed: no update was lost.
        assert session.execute(text("SELECT digest FROM head")).scalar_one() == "b+c"
    engine.dispose()


def test_readers_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'readers.db'}")
    with make_session_factory(engine)() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
        session.commit()
    with make_session_factory(engine)() as writer:
        writer.execute(text("UPDATE t SET x = 2"))  # holds the write lock, uncommitted
        with make_read_session_factory(engine)() as reader:
            assert reader.execute(text("SELECT x FROM t")).scalar_one() == 1
        writer.commit()
    engine.dispose()


def _table(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        session.execute(text("CREATE TABLE n (k INTEGER PRIMARY KEY, v INTEGER)"))
        session.execute(text("INSERT INTO n VALUES (1, 0)"))
        session.commit()


def test_writers_of_one_process_queue_past_sqlites_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each writer holds the lock longer than SQLite's busy timeout would let the others wait;
    queued in-process, every one of them still gets its turn and no increment is lost."""
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    sessions = make_session_factory(engine)
    _table(sessions)
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            with sessions() as session:
                value = session.execute(text("SELECT v FROM n")).scalar_one()
                time.sleep(0.06)  # longer than the busy timeout
                session.execute(text("UPDATE n SET v = :v"), {"v": value + 1})
                session.commit()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    with make_read_session_factory(engine)() as session:
        assert session.execute(text("SELECT v FROM n")).scalar_one() == 6
    engine.dispose()


def test_a_writer_kept_waiting_too_long_gets_a_busy_error_and_nothing_is_left_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "SQLITE_WRITER_QUEUE_SECONDS", 0.2)
    engine = make_engine(f"sqlite:///{tmp_path / 'busy.db'}")
    sessions = make_session_factory(engine)
    _table(sessions)
    holding, done = threading.Event(), threading.Event()

    def holder() -> None:
        with sessions() as session:
            session.execute(text("UPDATE n SET v = 1"))
            holding.set()
            done.wait(timeout=30)
            session.rollback()

    thread = threading.Thread(target=holder)
    thread.start()
    holding.wait(timeout=30)
    with pytest.raises(DatabaseBusyError, match="database is busy"), sessions() as session:
        session.execute(text("UPDATE n SET v = 2"))
    done.set()
    thread.join(timeout=30)
    # Both the rolled-back holder and the refused writer let go: the next write goes through.
    with sessions() as session:
        session.execute(text("UPDATE n SET v = 3"))
        session.commit()
    with make_read_session_factory(engine)() as session:
        assert session.execute(text("SELECT v FROM n")).scalar_one() == 3
    engine.dispose()


def test_a_writes_read_only_checks_do_not_wait_for_another_writer(tmp_path: Path) -> None:
    """`begin_read_only`: a write checks what it can (lots, documents) without taking SQLite's
    write lock, so it never queues behind another writer until it writes itself."""
    engine = make_engine(f"sqlite:///{tmp_path / 'checks.db'}")
    sessions = make_session_factory(engine)
    with sessions() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
        session.commit()
    with sessions() as writer:
        writer.execute(text("UPDATE t SET x = 2"))  # holds the write lock, uncommitted
        checked = threading.Event()

        def check() -> None:
            with sessions() as session:
                begin_read_only(session)
                assert session.execute(text("SELECT x FROM t")).scalar_one() == 1
                checked.set()
                session.rollback()

        thread = threading.Thread(target=check)
        thread.start()
        # A write transaction would queue here until the writer commits; the check does not.
        assert checked.wait(timeout=30)
        thread.join()
        writer.commit()
    engine.dispose()


_HOLDER = """
import sys, time
from sqlalchemy import text
from lotlink.db.engine import make_engine, make_session_factory
engine = make_engine(sys.argv[1])
with make_session_factory(engine)() as session:
    session.execute(text("UPDATE n SET v = v + 1"))
    print("holding", flush=True)
    time.sleep(1.0)
    session.commit()
engine.dispose()
"""


def test_writers_of_other_processes_queue_past_sqlites_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process writing the file (a web worker, the background worker, `lotlink
    anchorer` beside the service) is waited for on the gate's lock file, not by SQLite's busy
    handler: a writer waits out a transaction far longer than the busy timeout."""
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    url = f"sqlite:///{tmp_path / 'processes.db'}"
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    _table(sessions)
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDER, url], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
            with sessions() as session:  # waits for the other process's commit, a second away
                session.execute(text("UPDATE n SET v = v * 10"))
                session.commit()
            assert holder.wait(timeout=30) == 0
        finally:
            holder.kill()
    with make_read_session_factory(engine)() as session:
        assert session.execute(text("SELECT v FROM n")).scalar_one() == 10  # (0 + 1) * 10
    assert (tmp_path / "processes.db.writer.lock").is_file()
    engine.dispose()


def test_the_writer_gate_is_held_until_commit_has_returned(tmp_path: Path) -> None:
    """The next writer is let in only once COMMIT is done (its WAL fsynced): let in while the
    COMMIT still runs, its BEGIN IMMEDIATE would meet SQLite's lock and sleep in SQLite's busy
    handler. Every statement the connection runs is traced with whether the gate is held."""
    engine = make_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    sessions = make_session_factory(engine)
    _table(sessions)
    gate = engine_module._writer_gate(engine.url)
    seen: list[tuple[str, bool]] = []
    for ending in ("commit", "rollback"):
        with sessions() as session:
            dbapi = session.connection().connection.dbapi_connection
            assert dbapi is not None
            dbapi.set_trace_callback(lambda sql: seen.append((sql, gate._threads.locked())))
            session.execute(text("UPDATE n SET v = v + 1"))
            getattr(session, ending)()
            dbapi.set_trace_callback(None)
        assert gate.acquire(timeout=0)  # and let go once it has returned
        gate.release()
    assert [held for sql, held in seen if sql in ("COMMIT", "ROLLBACK")] == [True, True]
    engine.dispose()


def test_the_wal_is_checkpointed_after_commits_outside_the_writer_gate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Automatic checkpoints (inside COMMIT, under the write lock) are off; a committing thread
    checkpoints once it has let the gate go, at most once an interval, and the log is copied
    back into the database file."""
    from lotlink.db import wal_checkpoints

    monkeypatch.setattr(wal_checkpoints, "INTERVAL_SECONDS", 3600.0)
    path = tmp_path / "wal.db"
    engine = make_engine(f"sqlite:///{path}")
    sessions = make_session_factory(engine)
    _table(sessions)  # the first commit checkpoints; the next is due in an hour
    gate = engine_module._writer_gate(engine.url)
    seen: list[tuple[str, bool]] = []
    with sessions() as session:
        assert session.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == 0
        session.rollback()
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None
        dbapi.set_trace_callback(lambda sql: seen.append((sql, gate._threads.locked())))
        for value in range(3):
            session.execute(text("UPDATE n SET v = :v"), {"v": value})
            session.commit()
        assert not [sql for sql, _ in seen if "wal_checkpoint" in sql]  # not due yet
        dbapi.checkpoints._due = 0.0  # due now
        session.execute(text("UPDATE n SET v = 7"))
        session.commit()
        dbapi.set_trace_callback(None)
    checkpoints = [held for sql, held in seen if "wal_checkpoint" in sql]
    assert checkpoints == [False]  # once, after the gate was let go
    # Everything was copied back: the database file alone, without its log, holds v = 7.
    copy = tmp_path / "copy.db"
    copy.write_bytes(path.read_bytes())
    assert sqlite3.connect(copy).execute("SELECT v FROM n").fetchone() == (7,)
    engine.dispose()
