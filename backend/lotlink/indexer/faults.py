"""A test-only hook: ``LOTLINK_TEST_CRASH_AT=<step>`` makes the process SIGKILL itself at that
exact step, so tests can prove a crash anywhere loses nothing and duplicates nothing."""

from __future__ import annotations

import os
import signal

ENV = "LOTLINK_TEST_CRASH_AT"
#: The steps the indexer names, in the order a range goes through them.
STEPS = (
    "indexer_after_fetch",
    "indexer_after_apply_before_commit",
    "indexer_after_commit",
)


def crash_point(step: str) -> None:
    """SIGKILL this process if the environment asks for a crash at `step`."""
    if os.environ.get(ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
