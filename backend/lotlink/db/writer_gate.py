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
    """Held from a write transaction's BEGIN to its end (see the module's docstring).

    A writer with priority (the anchorer, draining the outbox) holds a turnstile beside the
    lock file while it waits, and writers without priority pass the turnstile before they
    queue: while a priority writer waits, the others stop there, so it is next but for those
    already queued. Without it, captures arriving faster than they could be anchored kept the
    anchorer waiting for most of its turns, and the backlog of unanchored events grew without
    bound; with it, a burst is slowed to what can be anchored.
    """

    def __init__(self, lock_file: Path | None) -> None:
        self._threads = threading.Lock()
        self._lock_file = lock_file  # None: a database of this process alone (in memory)
        self._fds: tuple[int, int] | None = None
        self._pid: int | None = None

    def acquire(self, *, timeout: float, priority: bool = False) -> bool:
        """Waits up to `timeout` seconds for this process's earlier writers (False if they
        keep it longer), then for other processes' writers, each holding it one transaction."""
        if not self._threads.acquire(timeout=timeout):
            return False
        if self._lock_file is not None:
            try:
                gate, turnstile = self._descriptors()
                if priority:
                    fcntl.flock(turnstile, fcntl.LOCK_EX)
                    try:
                        fcntl.flock(gate, fcntl.LOCK_EX)
                    finally:
                        fcntl.flock(turnstile, fcntl.LOCK_UN)
                else:
                    fcntl.flock(turnstile, fcntl.LOCK_SH)  # waits while a priority writer waits
                    fcntl.flock(turnstile, fcntl.LOCK_UN)
                    fcntl.flock(gate, fcntl.LOCK_EX)
            except BaseException:
                self._threads.release()
                raise
        return True

    def release(self) -> None:
        if self._lock_file is not None and self._fds is not None:
            fcntl.flock(self._fds[0], fcntl.LOCK_UN)
        self._threads.release()

    def _descriptors(self) -> tuple[int, int]:
        """The lock file's and the turnstile's descriptors. Opened once per process: a forked
        child sharing its parent's open files would share their locks too, so it opens its
        own. Called with the threads' lock held."""
        if self._fds is None or self._pid != os.getpid():
            assert self._lock_file is not None
            turnstile = self._lock_file.with_name(self._lock_file.name + ".priority")
            flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
            self._fds = (os.open(self._lock_file, flags, 0o600), os.open(turnstile, flags, 0o600))
            self._pid = os.getpid()
        return self._fds
