"""Group commit: the captures a process has prepared, stored together in one transaction.

A capture's events are prepared in its request's thread (validated, hashed, signatures
checked: `lotlink.services.submissions.prepare_capture`), then handed to this process's one
`CaptureWriter`. Its thread takes every capture waiting and stores them in one transaction,
committed once, then answers each: all together, one statement per step (`write_captures`),
or, if any fails, each in a SAVEPOINT of its own (`write_events`). On SQLite, whose one writer
every process takes turns at, a commit is an fsync of the log, and each turn has a fixed cost
(the lots' lock, the stored-digest check, BEGIN and COMMIT): under a burst the captures
arriving while another writer held the lock now share one turn instead of queueing for one
each. A capture stays all or none: one that fails (a stale head, a signature that does not
recover) is rolled back to its savepoint and answered with its error; the others are committed.
Nothing is answered before the commit has returned.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from lotlink.errors import WriterStoppedError
from lotlink.services.chain_access import ChainAccess
from lotlink.services.checkpoints import (
    Accepted,
    PreparedEvents,
    write_captures,
    write_events,
)

#: Events one transaction stores at most (captures are never split; one larger goes alone).
#: Bounded so that the anchorer, whose writes go first at SQLite's writer gate, never waits
#: long behind a group (tens of milliseconds under a burst).
MAX_GROUP_EVENTS = 200
_ATTEMPTS = 5

log = logging.getLogger("lotlink.capture_writer")


@dataclass(slots=True)
class _Job:
    prepared: PreparedEvents
    future: Future[list[Accepted]] = field(default_factory=Future)
    accepted: list[Accepted] | None = None


class CaptureWriter:
    """This process's writer of prepared captures (see the module's docstring)."""

    def __init__(self, sessions: sessionmaker[Session], chain: ChainAccess) -> None:
        self._sessions = sessions
        self._chain = chain
        self._waiting: deque[_Job] = deque()
        self._changed = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="capture-writer", daemon=True)

    def start(self) -> CaptureWriter:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Writes what is waiting, then ends the thread."""
        with self._changed:
            self._stopping = True
            self._changed.notify()
        if self._thread.ident is not None:
            self._thread.join()

    def submit(self, prepared: PreparedEvents) -> Future[list[Accepted]]:
        """Queues a prepared capture; the future holds its events' records once committed."""
        job = _Job(prepared)
        with self._changed:
            ended = self._thread.ident is not None and not self._thread.is_alive()
            if self._stopping or ended:
                raise WriterStoppedError()
            self._waiting.append(job)
            self._changed.notify()
        return job.future

    def _run(self) -> None:
        while (group := self._next_group()) is not None:
            if group:
                self._write(group)

    def _next_group(self) -> list[_Job] | None:
        """Every capture waiting, up to `MAX_GROUP_EVENTS` events (none if all were cancelled);
        None once stopped and nothing waits."""
        with self._changed:
            while not self._waiting:
                if self._stopping:
                    return None
                self._changed.wait()
            group: list[_Job] = []
            events = 0
            while self._waiting and (
                not group or events + self._waiting[0].prepared.count <= MAX_GROUP_EVENTS
            ):
                job = self._waiting.popleft()
                # A capture whose request was cancelled meanwhile is dropped, never written;
                # once running, one can no longer be cancelled.
                if job.future.set_running_or_notify_cancel():
                    group.append(job)
                    events += job.prepared.count
            return group

    def _write(self, group: list[_Job]) -> None:
        try:
            with self._sessions() as session:
                if not self._write_together(session, group):
                    for job in group:
                        self._write_one(session, job)
                session.commit()
        except BaseException as error:  # the transaction failed as a whole: nothing was stored
            for job in group:
                if not job.future.done():
                    job.future.set_exception(error)
            if not isinstance(error, Exception):
                raise
            log.warning("a group of %d captures was not stored: %s", len(group), error)
            return
        for job in group:
            if not job.future.done():
                assert job.accepted is not None
                job.future.set_result(job.accepted)

    def _write_together(self, session: Session, group: list[_Job]) -> bool:
        """Writes the whole group with one statement per step (`write_captures`), in one
        savepoint; False, with nothing kept, if any capture failed: each is then written alone.
        (Every statement lets go of the interpreter lock, which the writer, holding the
        database's one writer, then waits to get back behind the request threads hashing.)"""
        if len(group) < 2:
            return False
        savepoint = session.begin_nested()
        try:
            written = write_captures(session, self._chain, [job.prepared for job in group])
            savepoint.commit()
        except Exception:
            savepoint.rollback()
            return False
        for job, accepted in zip(group, written, strict=True):
            job.accepted = accepted
        return True

    def _write_one(self, session: Session, job: _Job) -> None:
        """Writes one capture in a savepoint; a capture that fails is answered with its error
        at once (its savepoint rolled back, the others' writes kept)."""
        for _ in range(_ATTEMPTS):
            savepoint = session.begin_nested()
            try:
                job.accepted = write_events(session, self._chain, job.prepared)
                savepoint.commit()
                return
            except IntegrityError:
                # A concurrent writer got there first (PostgreSQL; on SQLite none writes meanwhile).
                savepoint.rollback()
            except Exception as error:
                savepoint.rollback()
                job.future.set_exception(error)
                return
        job.future.set_exception(job.prepared.conflict())
