"""CPU time of the processes of a run, read from /proc: what each part of the stack costs.

A throughput figure says how fast; this says where the cores went (the clients, the web
workers, the background process, the chain), so the next optimisation is aimed, not guessed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds `pid` has used (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14, 15)


def children(pid: int) -> list[int]:
    """The direct children of `pid`."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def command_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    """CPU seconds so far of each named group of processes."""

    seconds: dict[str, float]

    @classmethod
    def of(cls, groups: Mapping[str, Iterable[int]]) -> CpuSnapshot:
        return cls({name: sum(cpu_seconds(pid) for pid in pids) for name, pids in groups.items()})

    def since(self, earlier: CpuSnapshot) -> dict[str, float]:
        return {name: self.seconds[name] - earlier.seconds.get(name, 0.0) for name in self.seconds}
