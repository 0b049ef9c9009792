"""The writer gate's order: a writer with priority goes before writers that came after it."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

from lotlink.db.writer_gate import WriterGate


def _blocked_on_turnstile(lock_file: Path) -> bool:
    """Whether a priority writer holds the turnstile (it does only while it waits)."""
    fd = os.open(lock_file.with_name(lock_file.name + ".priority"), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_priority_writer_is_let_in_before_writers_that_came_after_it(tmp_path: Path) -> None:
    # Gates of one file opened separately take turns as gates of separate processes do.
    lock_file = tmp_path / "db.writer.lock"
    holder, anchorer, capture = (WriterGate(lock_file) for _ in range(3))
    order: list[str] = []

    def write(name: str, gate: WriterGate, *, priority: bool) -> None:
        assert gate.acquire(timeout=30, priority=priority)
        order.append(name)
        time.sleep(0.05)
        gate.release()

    assert holder.acquire(timeout=1)
    first = threading.Thread(target=write, args=("anchorer", anchorer), kwargs={"priority": True})
    first.start()
    deadline = time.monotonic() + 10
    while not _blocked_on_turnstile(lock_file):
        assert time.monotonic() < deadline, "the priority writer never queued"
        time.sleep(0.01)
    second = threading.Thread(target=write, args=("capture", capture), kwargs={"priority": False})
    second.start()
    time.sleep(0.2)  # the capture waits at the turnstile, not at the gate
    assert order == []
    holder.release()
    first.join(timeout=10)
    second.join(timeout=10)
    assert order == ["anchorer", "capture"]


def test_writers_without_priority_pass_the_turnstile_freely(tmp_path: Path) -> None:
    lock_file = tmp_path / "db.writer.lock"
    one, two = WriterGate(lock_file), WriterGate(lock_file)
    assert one.acquire(timeout=1)
    one.release()
    assert two.acquire(timeout=1)
    assert not _blocked_on_turnstile(lock_file)
    two.release()
