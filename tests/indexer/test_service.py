"""Where the indexer runs: inside the service (lag on /healthz), and one writer at a time."""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from fixtures.world import World, gtin
from lotlink.config import Settings
from lotlink.indexer.cursor import writer_lock
from lotlink.main import create_app

from .conftest import MakeFollower

WAIT_SECONDS = 120


def _wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_the_service_runs_the_indexer_and_reports_its_lag(
    world: World, service_settings: Settings
) -> None:
    world.register_lot(gtin("0952123400030"), "SVC1")
    settings = service_settings.model_copy(
        update={"indexer_enabled": True, "anchorer_enabled": False, "indexer_poll_seconds": 0.05}
    )
    head = world.w3.eth.block_number
    with TestClient(create_app(settings)) as client:

        def caught_up() -> bool:
            indexer = client.get("/healthz").json()["indexer"]
            return bool(indexer.get("cursor_block") == head)

        _wait_for(caught_up, "the in-process indexer to reach the head")
        indexer = client.get("/healthz").json()["indexer"]
    assert indexer["in_process"] is True and indexer["state"] == "following"
    assert indexer["lag_blocks"] == 0 and indexer["lag_seconds"] == 0 and indexer["ok"] is True


def test_a_second_writer_waits_for_the_first(
    world: World, engine: Engine, make_follower: MakeFollower
) -> None:
    follower = make_follower(poll_seconds=0.02)
    stop = threading.Event()
    with writer_lock(engine):
        runner = threading.Thread(target=follower.run, args=(stop,), daemon=True)
        runner.start()
        _wait_for(lambda: follower.status.state == "waiting_for_lock", "the second writer")
        assert follower.status.cursor_block is None  # it has not touched the index
    _wait_for(lambda: follower.status.state == "following", "the lock to pass on")
    stop.set()
    runner.join(WAIT_SECONDS)
    assert follower.status.state == "stopped"
