"""A throwaway chain for benchmarks: anvil on a free port in a temp dir, Lotlink deployed on it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from eth_account.signers.local import LocalAccount
from web3 import Web3

from lotlink.bench.sockets import wait_until_listening
from lotlink.chain.compile import load_artifact
from lotlink.chain.contract import LotlinkContract
from lotlink.chain.deploy import deploy
from lotlink.chain.node import dev_accounts, start_anvil
from lotlink.chain.typed_data import Authorization
from lotlink.config import Settings, get_settings
from lotlink.gs1.keys import check_digit


@dataclass
class BenchChain:
    """A fresh deployment and one funded account per role, admin first."""

    w3: Web3
    lotlink: LotlinkContract
    accounts: list[LocalAccount]

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def send(self, function: str, *args: object, by: LocalAccount) -> int:
        """Gas used by `by` sending `function(*args)` itself."""
        receipt = self.lotlink.transact(
            function, *args, Authorization.direct().as_tuple(), sender=by
        )
        return int(receipt["gasUsed"])

    def relay(
        self, function: str, *args: object, signer: LocalAccount, relayer: LocalAccount
    ) -> int:
        """Gas used by `relayer` sending `function(*args)` with `signer`'s signature."""
        auth = self.lotlink.sign_write(function, *args, signer=signer, deadline=self.now() + 600)
        receipt = self.lotlink.transact(function, *args, auth.as_tuple(), sender=relayer)
        return int(receipt["gasUsed"])


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bench_gln(index: int) -> int:
    """A valid GLN for the index-th benchmark actor."""
    base = f"95212340{index:04d}"
    return int(base + str(check_digit(base)))


@contextmanager
def bench_chain(settings: Settings | None = None) -> Iterator[BenchChain]:
    """Starts anvil in a temporary directory, deploys Lotlink, stops anvil on exit."""
    base = settings or get_settings()
    with tempfile.TemporaryDirectory(prefix="lotlink-bench-") as tmp:
        isolated = base.model_copy(
            update={"var_dir": Path(tmp), "anvil_port": free_port(), "rpc_url": None}
        )
        with start_anvil(isolated) as anvil:
            w3 = anvil.web3()
            accounts = dev_accounts()
            deployment = deploy(w3, deployer_key_or_account=accounts[0], admin=accounts[0].address)
            lotlink = LotlinkContract(w3, deployment.address(), load_artifact("Lotlink").abi)
            yield BenchChain(w3=w3, lotlink=lotlink, accounts=accounts)


@contextmanager
def fresh_stack_settings(name: str, **overrides: object) -> Iterator[Settings]:
    """Settings for a throwaway stack in a temporary directory: a managed anvil on a free port,
    SQLite under it, batch anchoring, and cheap keystores (the benchmark's keys are throwaway).
    Start it with `lotlink.runtime.prepare`."""
    with tempfile.TemporaryDirectory(prefix=f"lotlink-bench-{name}-") as tmp:
        yield get_settings().model_copy(
            update={
                "var_dir": Path(tmp),
                "anvil_port": free_port(),
                "rpc_url": None,
                "database_url": None,
                "keystore_scrypt_n": 2**10,
                "anchor_mode": "batch",
                **overrides,
            }
        )


@dataclass(frozen=True, slots=True)
class Service:
    """A service a benchmark started: where it answers, and its (serving) process."""

    base: str
    pid: int


@contextmanager
def serve(
    settings: Settings, *, port: int, workers: int | None, background: bool = False
) -> Iterator[Service]:
    """The service on the chain and database `settings` name. With `background`, exactly as
    `lotlink serve` runs it: `workers` web processes (None: its default, one per core) and the
    anchorer, the indexer and the periodic rounds beside them. Without, uvicorn alone with
    `workers` processes and nothing in the background (for the read benchmarks)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("LOTLINK_RPC_URL", "LOTLINK_DATABASE_URL")  # the settings' own, below
    }
    env.update(
        {
            "LOTLINK_VAR_DIR": str(settings.var_dir),
            "LOTLINK_ANVIL_PORT": str(settings.anvil_port),
            "LOTLINK_KEYSTORE_SCRYPT_N": str(settings.keystore_scrypt_n),
            "LOTLINK_ANCHOR_MODE": settings.anchor_mode,
            "LOTLINK_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "LOTLINK_ACCESS_LOG": "false",
        }
    )
    env.update(_urls(settings))
    if background:
        command = [
            sys.executable, "-m", "lotlink.cli", "serve", "--host", "127.0.0.1",
            "--port", str(port), *([] if workers is None else ["--workers", str(workers)]),
        ]  # fmt: skip
    else:
        env.update({"LOTLINK_INDEXER_ENABLED": "false", "LOTLINK_ANCHORER_ENABLED": "false"})
        command = [
            sys.executable, "-m", "uvicorn", "lotlink.main:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers or 1),
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
    log_path = settings.var_dir / "serve.log"  # the service's own output, kept out of the figures
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/.well-known/gs1resolver", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
                raise RuntimeError(
                    "the service did not start for the benchmark: " + " / ".join(tail)
                )
            time.sleep(0.2)
        if background:  # `lotlink serve`: every web worker on its own socket, all listening
            expected = workers or settings.workers or os.cpu_count() or 1
            if len(wait_until_listening(port, expected, timeout=120)) < expected:
                raise RuntimeError(f"fewer than {expected} web workers started for the benchmark")
        yield Service(base, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)


def _urls(settings: Settings) -> dict[str, str]:
    """The chain and database URLs `settings` set explicitly (None: the managed defaults)."""
    urls = {"LOTLINK_RPC_URL": settings.rpc_url, "LOTLINK_DATABASE_URL": settings.database_url}
    return {key: str(value) for key, value in urls.items() if value is not None}
