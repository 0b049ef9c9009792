"""The one writer of a SQLite file, chosen fairly among threads and processes.

SQLite lets one transaction write at a time, and its busy handler polls with growing sleeps: not
fair, and the file sits unlocked between polls. With the API's threads, the anchorer and the
indexer all writing, a writer could starve past the busy timeout while others came and went.
So writers queue here before ``BEGIN IMMEDIATE``: first on a lock of this process's threads
(woken at once), then, for a database file, on an exclusive ``flock`` of a file beside it,
which the kernel gives to a waiting process as soon as it is let go and which dies with its
holder. The machine's processes writing the file (the service's web workers, its background
worker, `lotlink anchorer` or `lotlink indexer` beside it) thus take turns without polling.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path


class WriterGate:
    """Held from a write transaction's BEGIN to its end (see the module's docstring)."""

    def __init__(self, lock_file: Path | None) -> None:
        self._threads = threading.Lock()
        self._lock_file = lock_file  # None: a database of this process alone (in memory)
        self._fd: int | None = None
        self._pid: int | None = None

    def acquire(self, *, timeout: float) -> bool:
        """Waits up to `timeout` seconds for this process's earlier writers (False if they
        keep it longer), then for other processes' writers, each holding it one transaction."""
        if not self._threads.acquire(timeout=timeout):
            return False
        if self._lock_file is not None:
            try:
                fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
            except BaseException:
                self._threads.release()
                raise
        return True

    def release(self) -> None:
        if self._lock_file is not None and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def _descriptor(self) -> int:
        # Opened once per process: a forked child sharing its parent's open file would share
        # its lock too, so it opens its own. Called with the threads' lock held.
        if self._fd is None or self._pid != os.getpid():
            assert self._lock_file is not None
            self._fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd
