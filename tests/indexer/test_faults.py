"""Faults: the indexer SIGKILLed at exact steps of a range, and an endpoint that fails and
refuses ranges (a small proxy in front of anvil). The index ends complete, without duplicates."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fixtures.world import World, gtin
from lotlink.anchoring.manifest import ManifestStore, build_manifest
from lotlink.chain.compile import load_artifact
from lotlink.chain.deploy import DeployedContract, Deployment, save_deployment
from lotlink.indexer.cursor import load_cursor
from lotlink.models import AppliedLog, Batch, Checkpoint, Lot, ManifestStatus

from .conftest import MakeFollower
from .scenario import anchor_manifest, signed_events, snapshot, write_lots

LOTLINK = [sys.executable, "-m", "lotlink.cli"]
WAIT_SECONDS = 120  # generous: the tests wait for conditions, they never time anything


def _lots(world: World, count: int) -> None:
    for n in range(count):
        world.register_lot(gtin("0952123400020"), f"K{n}")


def _env(world: World, database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    save_deployment(
        Deployment(
            chain_id=world.lotlink.chain_id,
            contracts={"Lotlink": DeployedContract(
                address=world.lotlink.address, block=world.deployed_block,
                tx_hash="0x" + "00" * 32, abi_hash=load_artifact("Lotlink").abi_hash)},
            deployer=world.admin.address, admin=world.admin.address,
            deployed_at=datetime.now(UTC).replace(microsecond=0),
        ),
        var_dir / "deployment.json",
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTLINK_")}
    env.update(
        LOTLINK_VAR_DIR=str(var_dir),
        LOTLINK_RPC_URL=world.rpc_url,
        LOTLINK_DATABASE_URL=database_url,
        LOTLINK_INDEXER_MAX_RANGE="3",
        LOTLINK_INDEXER_POLL_SECONDS="0.05",
        **extra,
    )
    return env


def _cursor_block(engine: Engine) -> int | None:
    with engine.connect() as conn:
        cursor = load_cursor(conn)
    return None if cursor is None else cursor.block_number


def _wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


@pytest.mark.parametrize("step", ["indexer_after_apply_before_commit", "indexer_after_commit"])
def test_sigkill_mid_range_then_restart_loses_and_repeats_nothing(
    step: str,
    private_world: World,
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    make_private_follower: MakeFollower,
) -> None:
    world = private_world
    _lots(world, 5)
    head = world.w3.eth.block_number
    env = _env(world, database_url, tmp_path / "var")
    crashed = subprocess.run(
        [*LOTLINK, "indexer"], env={**env, "LOTLINK_TEST_CRASH_AT": step},
        capture_output=True, timeout=WAIT_SECONDS, check=False,
    )  # fmt: skip
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr.decode()
    first_range_end = world.deployed_block + 2  # three blocks per range
    if step == "indexer_after_commit":
        assert _cursor_block(engine) == first_range_end
    else:
        assert _cursor_block(engine) is None  # nothing of the range, nor its cursor, committed

    restarted = subprocess.Popen([*LOTLINK, "indexer"], env=env, stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: _cursor_block(engine) == head, "the restarted indexer to catch up")
    finally:
        restarted.send_signal(signal.SIGTERM)
        _, stderr = restarted.communicate(timeout=WAIT_SECONDS)
    assert restarted.returncode == 0, stderr.decode()

    with engine.connect() as conn:
        applied = conn.execute(select(func.count()).select_from(AppliedLog)).scalar_one()
        lots = conn.execute(select(func.count()).select_from(Lot)).scalar_one()
    assert lots == 5
    live = snapshot(engine)
    follower = make_private_follower()
    follower.reset()
    follower.catch_up()
    assert snapshot(engine) == live
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AppliedLog)).scalar_one() == applied


class FaultyEndpoint:
    """A JSON-RPC proxy in front of anvil that fails the way hosted endpoints do."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.outages = 0  # the next N requests answer HTTP 503
        self.max_log_blocks = 4  # wider eth_getLogs ranges are refused...
        self.refusal = "jsonrpc"  # ...with a -32005 error, or HTTP 413 ("http")
        self.refused = 0
        self.failed = 0
        self.pruned = False  # eth_call at a past block fails, as on a node without old state
        self.lock = threading.Lock()

    def handle(self, body: bytes) -> tuple[int, bytes]:
        with self.lock:
            if self.outages > 0:
                self.outages -= 1
                self.failed += 1
                return 503, b"upstream unavailable"
        request = json.loads(body)
        calls = request if isinstance(request, list) else [request]
        if self.pruned and any(c.get("method") == "eth_call" for c in calls):
            error = {"code": -32000, "message": "missing trie node (pruned)"}
            answers = [{"jsonrpc": "2.0", "id": c["id"], "error": error} for c in calls]
            return 200, json.dumps(answers if isinstance(request, list) else answers[0]).encode()
        if isinstance(request, dict) and request.get("method") == "eth_getLogs":
            query = request["params"][0]
            width = int(query["toBlock"], 16) - int(query["fromBlock"], 16) + 1
            if width > self.max_log_blocks:
                with self.lock:
                    self.refused += 1
                if self.refusal == "http":
                    return 413, b"Request Entity Too Large"
                error = {"code": -32005, "message": "query returned more than 10000 results"}
                return 200, json.dumps({"jsonrpc": "2.0", "id": request["id"], "error": error}
                                       ).encode()  # fmt: skip
        forwarded = urllib.request.Request(
            self.upstream, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(forwarded, timeout=30) as response:
            return 200, response.read()


@contextmanager
def faulty_endpoint(upstream: str) -> Iterator[tuple[str, FaultyEndpoint]]:
    endpoint = FaultyEndpoint(upstream)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status, payload = endpoint.handle(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", endpoint
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("refusal", ["jsonrpc", "http"])
def test_endpoint_errors_and_refused_ranges_back_off_shrink_and_catch_up(
    refusal: str, private_world: World, engine: Engine, make_private_follower: MakeFollower
) -> None:
    world = private_world
    _lots(world, 6)
    head = world.w3.eth.block_number
    with faulty_endpoint(world.rpc_url) as (url, endpoint):
        endpoint.refusal = refusal
        endpoint.outages = 3
        follower = make_private_follower(rpc_url=url, max_range=64, poll_seconds=0.01)
        stop = threading.Event()
        runner = threading.Thread(target=follower.run, args=(stop,), daemon=True)
        runner.start()
        try:
            _wait_for(lambda: _cursor_block(engine) == head, "the follower to catch up")
        finally:
            stop.set()
            runner.join(WAIT_SECONDS)
    assert endpoint.failed == 3 and follower.status.retries >= 1
    assert endpoint.refused >= 1 and follower.fetcher.refusals == endpoint.refused
    assert follower.fetcher.span <= 64
    assert follower.status.state == "stopped" and follower.status.last_error is None
    live = snapshot(engine)
    direct = make_private_follower()
    direct.reset()
    direct.catch_up()
    assert snapshot(engine) == live


def test_a_node_without_the_anchoring_blocks_state_holds_up_only_that_batch(
    world: World, engine: Engine, make_follower: MakeFollower, manifests_dir: Path
) -> None:
    history = write_lots(world)
    gtin14, lot_code = history.child_ref
    events = signed_events(world, history.child, gtin14=gtin14, lot_code=lot_code, count=2)
    manifest = build_manifest(
        events, chain_id=world.lotlink.chain_id, contract_address=world.lotlink.address
    )
    ManifestStore(manifests_dir).write(manifest)
    anchor_manifest(world, manifest)
    _lots(world, 2)  # logs after the batch
    with faulty_endpoint(world.rpc_url) as (url, endpoint):
        endpoint.pruned = True
        follower = make_follower(rpc_url=url)
        follower.catch_up()
        assert _cursor_block(engine) == world.w3.eth.block_number
        with Session(engine) as session:
            batch = session.scalars(select(Batch)).one()
            assert batch.manifest_status is ManifestStatus.UNAVAILABLE
            assert batch.manifest_error is not None and "missing trie node" in batch.manifest_error
            assert session.scalar(select(func.count()).select_from(Lot)) == 5
            assert session.scalar(select(func.count()).select_from(Checkpoint)) == 0

        endpoint.pruned = False  # e.g. the operator points the indexer at an archive node
        assert follower.retry_manifests(now=datetime.now(UTC) + timedelta(days=1)) == 1
    with Session(engine) as session:
        assert session.scalars(select(Batch)).one().manifest_status is ManifestStatus.VERIFIED
        assert session.scalar(select(func.count()).select_from(Checkpoint)) == 2
