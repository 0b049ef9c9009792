"""The processes of `lotlink serve`: web workers, each on its own listening socket, that end with
the process that serves them.

**One listening socket per worker.** uvicorn's own supervisor binds one socket and hands it to
every worker. asyncio then accepts every connection waiting on it at once, so a burst of new
keep-alive connections lands on whichever worker wakes first: the write benchmark saw 32 clients
split 32 / 0 between two workers, leaving one core idle for the whole run. Here each worker binds
its own socket with ``SO_REUSEPORT``, and Linux spreads incoming connections across them. The
supervisor keeps a bound socket of its own, never listening, so the port stays claimed while a
worker restarts and a port already taken fails before any worker starts.

**Ending with the serving process.** The supervisor stops its workers on SIGTERM or Ctrl-C. What
it cannot do is stop them when it is itself killed (SIGKILL, the OOM killer): the workers would go
on answering on the port with nobody anchoring or indexing behind them. So each worker asks Linux
to send it SIGTERM when its parent dies (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import ctypes
import logging
import os
import pickle
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import wait
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Process

from lotlink.errors import LotlinkError

#: Set by `lotlink serve` for its web workers: the serving process's pid.
SERVING_PROCESS_ENV = "LOTLINK_SERVING_PROCESS"

_PR_SET_PDEATHSIG = 1

logger = logging.getLogger("uvicorn.error")


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


def shared_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to `host`:`port` with ``SO_REUSEPORT``, so that the supervisor and each
    worker can bind the same port; it accepts only once something calls ``listen`` on it."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class _Worker(Process):
    """One web worker: uvicorn's worker process (its health pings, its stop, its kill), serving
    on a listening socket it binds itself instead of the one socket uvicorn would share."""

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # in the worker
        try:
            own = shared_port_socket(self.config.host, self.config.port)
        except OSError as error:
            logger.error(
                "web worker could not bind %s:%s: %s", self.config.host, self.config.port, error
            )
            sys.exit(STARTUP_FAILURE)
        super().target([own])

    def ping(self, timeout: float = 5) -> bool:
        """True if the worker answers a health ping within `timeout` seconds. Waits for the
        answer or the worker's end, whichever comes first: uvicorn's own ping, sent to a worker
        that dies before answering, waits out the whole timeout (a minute here) before the
        worker is replaced."""
        try:
            self.parent_conn.send(b"ping")
            answered = wait([self.parent_conn, self.process.sentinel], timeout)
            if self.parent_conn not in answered:
                return False
            self.parent_conn.recv()  # whether it has started: alive either way
            return True
        except (OSError, EOFError, pickle.UnpicklingError):
            return False


class WebWorkers:
    """`count` worker processes serving `config`'s app (uvicorn's factory and settings), each
    on its own ``SO_REUSEPORT`` socket; a worker that dies or stops answering its health ping
    is replaced. `run` returns once SIGTERM or Ctrl-C has stopped them all."""

    def __init__(self, config: uvicorn.Config, count: int) -> None:
        self.config = config
        self.count = count
        self.workers: list[_Worker] = []
        self._stop = threading.Event()

    def run(self) -> None:
        try:
            claim = shared_port_socket(self.config.host, self.config.port)
        except OSError as error:
            raise LotlinkError(
                f"cannot serve on {self.config.host}:{self.config.port}: {error.strerror}"
            ) from None
        self.config.configure_logging()
        with claim, self._stopping_on_signals():
            logger.info("Started parent process [%d]", os.getpid())
            self.workers = [self._start() for _ in range(self.count)]
            failed = False
            while not failed and not self._stop.wait(0.5):
                failed = self._replace_dead_workers()
            for worker in self.workers:
                worker.terminate()
            for worker in self.workers:
                worker.join()
            logger.info("Stopping parent process [%d]", os.getpid())
        if failed:
            raise LotlinkError("a web worker failed to start (its error is above); stopped")

    def _start(self) -> _Worker:
        worker = _Worker(self.config, [])
        worker.start()
        return worker

    def _replace_dead_workers(self) -> bool:
        """Replaces each worker that died or hangs; True if one failed before it could serve
        (the app or the socket is broken, and every replacement would fail the same way)."""
        for index, worker in enumerate(self.workers):
            if self._stop.is_set():
                return False
            if worker.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            worker.kill()
            worker.join()
            if worker.exitcode == STARTUP_FAILURE:
                logger.error("Web worker [%s] failed to start", worker.pid)
                return True
            logger.warning(
                "Web worker [%s] died (exit %s); starting another", worker.pid, worker.exitcode
            )
            self.workers[index] = self._start()
        return False

    @contextmanager
    def _stopping_on_signals(self) -> Iterator[None]:
        """SIGTERM and SIGINT stop the workers (in `run`'s loop, not in the handler, which may
        interrupt anything); the previous handlers come back afterwards."""

        def stop(signum: int, frame: FrameType | None) -> None:
            logger.info("Received %s, stopping the web workers", signal.Signals(signum).name)
            self._stop.set()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
