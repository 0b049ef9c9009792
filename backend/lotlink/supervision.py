"""The processes of `lotlink serve`: web workers end with the process that serves them.

uvicorn's supervisor starts, watches and restarts the workers, and stops them on SIGTERM or
Ctrl-C. What it cannot do is stop them when it is itself killed (SIGKILL, the OOM killer): the
workers would go on answering on the port with nobody anchoring or indexing behind them. So
each worker asks Linux to send it SIGTERM when its parent dies (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

#: Set by `lotlink serve` for its web workers: the serving process's pid.
SERVING_PROCESS_ENV = "LOTLINK_SERVING_PROCESS"

_PR_SET_PDEATHSIG = 1


def end_with_serving_process() -> None:
    """In a web worker of `lotlink serve`, end when the serving process ends. Elsewhere (one
    process, tests, another platform), nothing."""
    parent = os.environ.get(SERVING_PROCESS_ENV)
    if parent is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != int(parent):  # it died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)
