"""Copying SQLite's write-ahead log back into the database after a commit, not inside it.

By default the commit that takes the WAL past 1,000 pages also checkpoints it: it copies them
into the database file and fsyncs it while still holding the database's one write lock (and
Lotlink's writer gate), so every writer queued behind it waits that long too. Under a capture
burst that was half of a commit's time: a median of 6 ms, a mean of 12. So Lotlink's
connections turn automatic checkpoints off (``PRAGMA wal_autocheckpoint=0``) and a thread that
has just committed and let the writer gate go runs a PASSIVE checkpoint, at most once every
`INTERVAL_SECONDS` per process: it copies what it can without waiting for readers or writers,
while the next writer already writes. (The last connection to a database to close checkpoints
it as always.)
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

#: At most one checkpoint per process this often, seconds (the WAL then holds a few MB at most).
INTERVAL_SECONDS = 0.25

log = logging.getLogger(__name__)


class WalCheckpoints:
    """When one process's connections to one database checkpoint its WAL."""

    def __init__(self, interval: float | None = None) -> None:
        self._interval = INTERVAL_SECONDS if interval is None else interval
        self._running = threading.Lock()
        self._due = 0.0

    def after_commit(self, connection: sqlite3.Connection) -> None:
        """Checkpoints on `connection` (outside any transaction) if one is due and no other
        thread of this process is checkpointing. Never raises: the commit has succeeded."""
        now = time.monotonic()
        if now < self._due or not self._running.acquire(blocking=False):
            return
        try:
            self._due = now + self._interval
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").close()
        except sqlite3.Error as error:
            # Another process checkpointing answers "busy"; anything else is retried next time,
            # and the log only grows meanwhile.
            log.debug("WAL checkpoint skipped: %s", error)
        finally:
            self._running.release()
