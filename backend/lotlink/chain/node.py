"""The managed local chain: one anvil from contracts/node_modules, its state kept under var/.

anvil dumps its state on SIGTERM and every few seconds (--state-interval), so a clean stop loses
nothing and a SIGKILL loses at most the last interval.

The dump keeps blocks, receipts and logs, but only the latest state: after a restart, calls at an
earlier block (``hasRole`` at an anchoring block) fail with BlockOutOfRangeError, and even a
running anvil drops old states (at block 4,475 it had none left for block 3). Not fixed here with
``--preserve-historical-states``: that dumps one full state per block, so its size grows with
blocks x state (measured with one storage write per block: 0.76 MB -> 4.9 MB at 200 blocks,
92 MB at 1,000, 766 MB at 3,000, where it took 13 s to start, 8 s to dump, ~5.8 GB of memory,
and would be rewritten every STATE_INTERVAL_SECONDS). Verifiers read a role at an old block from
the contract's role logs instead (`lotlink.chain.roles`), as they must for pruned nodes anyway.
"""

from __future__ import annotations

import contextlib
import errno
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import HTTPProvider, Web3

from lotlink.config import Settings
from lotlink.errors import ChainStartError, ChainUnavailableError, ToolchainMissingError

# anvil's default mnemonic, passed explicitly so the dev accounts never change under us.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNT_COUNT = 10
# solc compiles for prague (see chain.compile); anvil 1.7 would otherwise run a later fork.
HARDFORK = "prague"
STATE_INTERVAL_SECONDS = 5
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0


def find_anvil(settings: Settings) -> Path:
    """The anvil binary the npm package @foundry-rs/anvil-linux-amd64 ships."""
    for candidate in (
        settings.node_modules / ".bin" / "anvil",
        settings.node_modules / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil",
    ):
        if candidate.is_file():
            return candidate
    raise ToolchainMissingError(
        tool="anvil", hint="install Node 20+ and run `npm ci` in contracts/"
    )


def dev_accounts(count: int = DEV_ACCOUNT_COUNT) -> list[LocalAccount]:
    """The managed chain's funded accounts; the first one deploys. Development only."""
    Account.enable_unaudited_hdwallet_features()
    return [
        Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
        for index in range(count)
    ]


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on host:port (checked before starting anvil)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR as anvil does, so sockets lingering in TIME_WAIT do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise ChainStartError(reason=f"cannot listen on {host}:{port}: {error}") from None
    return False


def _port_taken_error(host: str, port: int) -> ChainStartError:
    return ChainStartError(
        reason=f"port {port} on {host} is already in use; stop what runs there "
        "(another `lotlink chain up`?) or set LOTLINK_ANVIL_PORT"
    )


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return ""
    return " | ".join(text.splitlines()[-lines:])


def rpc_chain_id(url: str, *, timeout: float = 2.0) -> int:
    """eth_chainId at url; raises ChainUnavailableError when nothing answers."""
    provider = HTTPProvider(
        url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None
    )
    try:
        return int(Web3(provider).eth.chain_id)
    except Exception as error:  # requests, JSON and RPC errors alike mean "not answering"
        text = str(error)
        # requests nests the useful part: "... [Errno 111] Connection refused"))
        found = re.search(r"\[Errno \d+\] [^'\")]+", text)
        reason = found.group(0) if found else (text.splitlines() or [type(error).__name__])[0]
        raise ChainUnavailableError(url=url, reason=reason) from None


@dataclass
class AnvilProcess:
    """A running anvil owned by this process; stop() (or leaving the with-block) ends it."""

    host: str
    port: int
    chain_id: int
    state_file: Path
    log_file: Path
    process: subprocess.Popen[bytes]
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def web3(self) -> Web3:
        return Web3(HTTPProvider(self.url, request_kwargs={"timeout": 30}))

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        """SIGTERM, so anvil dumps its state; SIGKILL if it has not exited after timeout."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.process.returncode

    def __enter__(self) -> AnvilProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_anvil(
    settings: Settings,
    *,
    state_file: Path | None = None,
    log_file: Path | None = None,
    timeout: float = START_TIMEOUT_SECONDS,
) -> AnvilProcess:
    """Start anvil on settings' host/port/chain id and return once eth_chainId answers.

    The chain is loaded from and dumped to state_file (default var/chain/state.json).
    """
    binary = find_anvil(settings)
    host, port, chain_id = settings.anvil_host, settings.anvil_port, settings.anvil_chain_id
    if port_in_use(host, port):
        raise _port_taken_error(host, port)
    state_file = state_file or settings.chain_dir / "state.json"
    log_file = log_file or settings.chain_dir / "anvil.log"
    state_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    command = [
        str(binary),
        "--host", host,
        "--port", str(port),
        "--chain-id", str(chain_id),
        "--hardfork", HARDFORK,
        "--mnemonic", DEV_MNEMONIC,
        "--accounts", str(DEV_ACCOUNT_COUNT),
        "--state", str(state_file),
        "--state-interval", str(STATE_INTERVAL_SECONDS),
        "--quiet",
    ]  # fmt: skip
    log = log_file.open("ab")
    log.write(f"--- lotlink: starting {' '.join(command)}\n".encode())
    log.flush()
    try:
        # A session of its own: Ctrl-C reaches lotlink, which then stops anvil in order.
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as error:
        log.close()
        raise ToolchainMissingError(tool=f"anvil ({binary})", hint=str(error)) from None
    anvil = AnvilProcess(host, port, chain_id, state_file, log_file, process, log)
    try:
        _wait_until_answering(anvil, timeout=timeout)
    except BaseException:
        anvil.stop()
        raise
    return anvil


def _wait_until_answering(anvil: AnvilProcess, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if not anvil.running():
            tail = _log_tail(anvil.log_file)
            if "Address already in use" in tail:
                raise _port_taken_error(anvil.host, anvil.port)
            raise ChainStartError(
                reason=f"anvil exited with status {anvil.process.returncode}: {tail}"
            )
        with contextlib.suppress(ChainUnavailableError):
            answered = rpc_chain_id(anvil.url, timeout=1.0)
            if answered != anvil.chain_id:
                raise ChainStartError(
                    reason=f"anvil answered chain id {answered}, expected {anvil.chain_id}"
                )
            return
        if time.monotonic() > deadline:
            raise ChainStartError(
                reason=f"anvil did not answer within {timeout:.0f}s: {_log_tail(anvil.log_file)}"
            )
        time.sleep(0.1)


def connect(settings: Settings, *, url: str | None = None, timeout: float = 30.0) -> Web3:
    """A Web3 for url (default: LOTLINK_RPC_URL or the managed anvil) that has just answered."""
    url = url or settings.effective_rpc_url
    rpc_chain_id(url, timeout=min(timeout, 5.0))
    return Web3(HTTPProvider(url, request_kwargs={"timeout": timeout}))
