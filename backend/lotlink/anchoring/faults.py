"""Test-only crash points: the anchorer kills itself at a named step of its cycle.

``LOTLINK_TEST_CRASH_AT=after_send`` makes the process SIGKILL itself right after it broadcast
a transaction (a batch's, or in direct mode an event's), so fault tests crash at an exact step
instead of guessing with timers. Unset (as in production) a crash point costs one dictionary
lookup.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "LOTLINK_TEST_CRASH_AT"

#: The steps, in cycle order.
CRASH_POINTS = (
    "before_batch",  # events are in the outbox; no batch is built yet
    "after_batch",  # the batch and its manifest are stored; nothing is signed
    "after_sign",  # the signed transaction is stored; it is not broadcast
    "after_send",  # the transaction is broadcast; its receipt is not awaited
    "after_receipt",  # the transaction is mined; the events' receipts are not stored
)

#: Direct mode's steps (`lotlink.anchoring.direct`), in the order of one event's record.
DIRECT_CRASH_POINTS = (
    "before_record",  # events are in the outbox; none is marked in flight
    "after_claim",  # the oldest is marked in flight; nothing is signed
    "after_send",  # its transaction is broadcast; its receipt is not awaited
    "after_receipt",  # the transaction is mined; the event's receipt is not stored
)


def crash_point(step: str) -> None:
    """SIGKILL this process if LOTLINK_TEST_CRASH_AT names `step`."""
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
