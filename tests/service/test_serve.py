"""`lotlink serve` as a user runs it: chain up, deployed, migrated, healthy; stopped cleanly; resumed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from web3 import Web3

from fixtures.anvil import free_port
from lotlink.bench.cpu import children, command_of
from lotlink.bench.sockets import (
    ESTABLISHED,
    listening,
    socket_inodes,
    tcp_sockets,
    wait_until_listening,
)
from lotlink.chain.compile import load_artifact
from lotlink.chain.node import dev_accounts, port_in_use
from lotlink.errors import LotlinkError
from lotlink.supervision import WebWorkers
from lotlink.vocabulary import Role

LOTLINK = [sys.executable, "-m", "lotlink.cli"]


@contextmanager
def serving(
    var_dir: Path, *, database_url: str | None = None, workers: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[str], int]]:
    """Runs `lotlink serve` until the block ends, then stops it with SIGTERM like a supervisor."""
    http_port, anvil_port = free_port(), free_port()
    env = {
        **os.environ,
        "LOTLINK_VAR_DIR": str(var_dir),
        "LOTLINK_ANVIL_PORT": str(anvil_port),
        "LOTLINK_PORT": str(http_port),
        "LOTLINK_DATABASE_URL": database_url or "",
        "LOTLINK_RPC_URL": "",
    }
    process = subprocess.Popen(
        [*LOTLINK, "serve", *([] if workers is None else ["--workers", str(workers)])],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base, process, anvil_port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def test_serve_starts_everything_and_reports_it_on_healthz(
    tmp_path: Path, database_url: str
) -> None:
    with serving(tmp_path, database_url=database_url) as (base, _, anvil_port):
        response = httpx.get(f"{base}/healthz")
        assert response.status_code == 200, response.text
        health = response.json()
        assert health["status"] == "ok"
        assert health["chain"]["chain_id"] == 31337
        assert health["chain"]["managed"] is True
        assert (
            health["chain"]["head_block"] >= health["chain"]["contracts"]["Lotlink"]["block"] >= 1
        )
        assert health["chain"]["contracts"]["Lotlink"]["address"].startswith("0x")
        assert health["database"]["ok"] is True
        assert health["database"]["revision"] == health["database"]["newest"]
        assert health["database"]["backend"] == database_url.split(":", 1)[0].split("+")[0]
        # First start gave the relayer (anvil's second dev account) the anchorer role.
        w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{anvil_port}"))
        lotlink = w3.eth.contract(
            address=health["chain"]["contracts"]["Lotlink"]["address"],
            abi=load_artifact("Lotlink").abi,
        )
        assert lotlink.functions.hasRole(Role.ANCHORER.id, dev_accounts(2)[1].address).call()
        missing = httpx.get(f"{base}/no/such/page")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["status"] == 404
    assert not port_in_use("127.0.0.1", anvil_port), "SIGTERM must stop the managed anvil too"


def test_a_restart_keeps_the_chain_and_the_deployment(tmp_path: Path) -> None:
    with serving(tmp_path) as (base, _, _):
        first = httpx.get(f"{base}/healthz").json()["chain"]
    with serving(tmp_path) as (base, _, _):
        second = httpx.get(f"{base}/healthz").json()["chain"]
    assert second["contracts"] == first["contracts"]
    assert second["head_block"] >= first["head_block"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _connections_per_worker(port: int, workers: set[int], clients: int) -> dict[int, int]:
    """Opens `clients` connections at once (as a burst of keep-alive clients does), has each
    answered, and counts the ones each worker accepted."""
    connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(clients)]
    try:
        for connection in connections:
            connection.sendall(b"GET /no/such/page HTTP/1.1\r\nHost: lotlink\r\n\r\n")
        for connection in connections:
            connection.settimeout(30)
            assert connection.recv(12).startswith(b"HTTP/1.1 404")
        established = {i for i, state in tcp_sockets(port).items() if state == ESTABLISHED}
        return {pid: len(socket_inodes(pid) & established) for pid in workers}
    finally:
        for connection in connections:
            connection.close()


def test_web_workers_serve_beside_one_background_and_end_with_the_serving_process(
    tmp_path: Path,
) -> None:
    """`lotlink serve --workers 2`: two web workers answer, each on its own listening socket, so
    a burst of new connections is spread across both; the indexer runs once beside them (in
    the serving process, not in a worker), and killing the serving process outright (SIGKILL:
    no chance to stop them) still ends the workers, freeing the port."""
    with serving(tmp_path, workers=2) as (base, process, _):
        health = httpx.get(f"{base}/healthz").json()
        assert health["status"] == "ok", health
        assert health["indexer"]["in_process"] is False  # a worker's view: it runs elsewhere
        deadline = time.monotonic() + 60
        while health["indexer"].get("cursor_block") is None and time.monotonic() < deadline:
            time.sleep(0.2)  # the serving process's indexer moves the cursor the workers read
            health = httpx.get(f"{base}/healthz").json()
        assert health["indexer"]["cursor_block"] is not None, health
        workers = {pid for pid in children(process.pid) if "spawn_main" in command_of(pid)}
        assert len(workers) == 2
        port = int(base.rsplit(":", 1)[1])
        # The first worker up answered /healthz; the second may still be starting.
        listeners = wait_until_listening(port, 2, timeout=60)
        assert len(listeners) == 2, "one listening socket per worker"
        assert all(len(socket_inodes(pid) & listeners) == 1 for pid in workers)
        # The kernel hashes each connection to a socket: each worker gets 4 or more of 32 but
        # about once in 400,000 runs; a shared socket gave one worker nearly all.
        accepted = _connections_per_worker(port, workers, clients=32)
        assert sum(accepted.values()) == 32, accepted
        assert min(accepted.values()) >= 4, accepted
        # A worker that dies is replaced, on a listening socket of its own again.
        os.kill(min(workers), signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = {pid for pid in children(process.pid) if "spawn_main" in command_of(pid)}
            if len(now) == 2 and now != workers and len(listening(port)) == 2:
                break
            time.sleep(0.2)
        assert len(now) == 2 and min(workers) not in now and len(listening(port)) == 2
        assert httpx.get(f"{base}/healthz").status_code == 200
        workers = now
        anvil = [pid for pid in children(process.pid) if "anvil" in command_of(pid)]
        process.kill()
        process.wait(timeout=30)
        try:
            deadline = time.monotonic() + 30
            while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not any(_alive(pid) for pid in workers)
            assert not port_in_use("127.0.0.1", port)
        finally:
            # The managed anvil outlives a SIGKILL (and workers would, were this broken).
            for pid in [*anvil, *workers]:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)


def test_web_workers_refuse_a_port_already_taken_before_starting_any() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        workers = WebWorkers(uvicorn.Config("lotlink.main:create_served_app", port=port), 2)
        with pytest.raises(LotlinkError) as refused:
            workers.run()
        assert str(refused.value) == f"cannot serve on 127.0.0.1:{port}: Address already in use"
        assert workers.workers == []
