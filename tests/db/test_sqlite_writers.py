"""On SQLite, a transaction that reads and then writes must wait for a concurrent writer, never
fail with "database is locked" (the anchorer, the indexer and requests all write at once)."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from lotlink.db.engine import make_engine, make_read_session_factory, make_session_factory


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
