"""The TCP sockets of a port and who holds them, read from /proc (Linux).

A benchmark must not start before every web worker listens: the kernel spreads new connections
only across the sockets listening at that moment, so clients that connect while one worker is
still starting all stay on the other for as long as their keep-alive connections last.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

LISTEN, ESTABLISHED = "0A", "01"  # TCP states as /proc/net/tcp writes them


def tcp_sockets(port: int) -> dict[int, str]:
    """inode -> TCP state of every socket whose local port is `port`."""
    found: dict[int, str] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                found[int(fields[9])] = fields[3]
    return found


def listening(port: int) -> set[int]:
    """The inodes of the sockets listening on `port`."""
    return {inode for inode, state in tcp_sockets(port).items() if state == LISTEN}


def socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets process `pid` holds open."""
    inodes: set[int] = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(int(target.removeprefix("socket:[").removesuffix("]")))
    return inodes


def wait_until_listening(port: int, count: int, *, timeout: float) -> set[int]:
    """Waits until `count` sockets listen on `port` (one per web worker); returns them, or
    fewer once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while len(found := listening(port)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return found
