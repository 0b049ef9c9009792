"""A background thread that runs one piece of work again and again until stopped: the service's
webhook deliverer and complaint sweep (the anchorer and indexer have loops of their own)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("lotlink.periodic")


class PeriodicTask:
    """Calls `work` every `interval` seconds, at once again while it returns True (more is
    waiting); an error is logged and the next round still comes."""

    def __init__(
        self,
        name: str,
        work: Callable[[], bool | None],
        *,
        interval: float,
        first_wait: bool,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.on_stop = on_stop
        self.work = work
        self.interval = interval
        self.first_wait = first_wait
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        if self.first_wait and self.stopping.wait(self.interval):
            return
        while not self.stopping.is_set():
            try:
                more = bool(self.work())
            except Exception:
                log.exception("%s failed; trying again in %.0f s", self.name, self.interval)
                more = False
            if not more:
                self.stopping.wait(self.interval)

    def start(self) -> PeriodicTask:
        self._thread = threading.Thread(target=self.run, name=f"lotlink-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Asks the loop to stop after the current round, and waits for it."""
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self.on_stop is not None:
            self.on_stop()
