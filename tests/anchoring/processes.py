"""Fault-test parts: `lotlink anchorer` as a real process (crashed at a step, or stopped cleanly),
and a chain of a test's own that can be stopped and started again mid-stream."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from web3.types import RPCEndpoint

from anchoring.builders import Submitter
from fixtures.anvil import free_port
from fixtures.world import GLNS
from lotlink.anchoring.faults import CRASH_ENV
from lotlink.chain.compile import load_artifact
from lotlink.chain.contract import LotlinkContract
from lotlink.chain.deploy import deploy, save_deployment
from lotlink.chain.node import AnvilProcess, dev_accounts, start_anvil
from lotlink.chain.typed_data import Authorization
from lotlink.config import Settings
from lotlink.db import make_engine, make_session_factory, upgrade_database
from lotlink.models import Checkpoint, CheckpointStatus, OutboxEntry, OutboxState
from lotlink.vocabulary import Role

LOTLINK = [sys.executable, "-m", "lotlink.cli"]
# Generous: these wait for work, they do not time it.
WAIT_SECONDS = 120


def anchorer_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of `lotlink anchorer` for `settings` (small, quick batches), plus `extra`."""
    assert settings.relayer_key is not None and settings.database_url is not None
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOTLINK_")}
    env.update(
        LOTLINK_VAR_DIR=str(settings.var_dir),
        LOTLINK_RPC_URL=settings.effective_rpc_url,
        LOTLINK_DATABASE_URL=settings.database_url,
        LOTLINK_RELAYER_KEY=settings.relayer_key.get_secret_value(),
        LOTLINK_BATCH_SIZE="3",
        LOTLINK_BATCH_INTERVAL_MS="50",
        LOTLINK_PUBLIC_BASE_URL="http://lotlink.test",
        **extra,
    )
    return env


@contextmanager
def anchorer_process(settings: Settings, **extra: str) -> Iterator[subprocess.Popen[str]]:
    """`lotlink anchorer` until the block ends, then SIGTERM (a clean stop must exit 0)."""
    log = (settings.var_dir / "anchorer.log").open("a")
    process = subprocess.Popen(
        [*LOTLINK, "anchorer"],
        env=anchorer_env(settings, **extra),
        stdout=log,
        stderr=log,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0, anchorer_log(settings)
        log.close()


def crash_anchorer_at(settings: Settings, step: str, **extra: str) -> None:
    """Runs `lotlink anchorer` until it SIGKILLs itself at `step` (it must get there)."""
    with anchorer_process(settings, **{CRASH_ENV: step}, **extra) as crashing:
        assert crashing.wait(timeout=WAIT_SECONDS) == -signal.SIGKILL, anchorer_log(settings)


def anchorer_log(settings: Settings) -> str:
    """The end of what the anchorer processes of this test wrote."""
    return (settings.var_dir / "anchorer.log").read_text()[-3000:]


def wait_until_anchored(sessions: sessionmaker[Session], digests: list[str], why: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        with sessions() as session:
            done = session.scalar(
                select(func.count())
                .select_from(Checkpoint)
                .where(
                    Checkpoint.digest.in_(digests), Checkpoint.status == CheckpointStatus.ANCHORED
                )
            )
        if done == len(digests):
            return
        time.sleep(0.1)
    raise AssertionError(f"{len(digests) - (done or 0)} events not anchored {why}")


@dataclass
class OwnChain:
    """An anvil of one test's own (with --state, so it can be stopped and started again on the
    same port), Lotlink deployed on it, the relayer and a supplier registered, and a database."""

    settings: Settings
    anvil: AnvilProcess
    lotlink: LotlinkContract
    supplier: LocalAccount
    sessions: sessionmaker[Session]

    def restart_anvil(self) -> None:
        """Starts anvil again from the state it wrote when it stopped."""
        restarted = start_anvil(
            Settings(var_dir=self.settings.var_dir.parent / "chain", anvil_port=self.anvil.port)
        )
        self.anvil.process = restarted.process  # the fixture stops whichever runs
        self.anvil._log = restarted._log


def restart(chain: OwnChain) -> None:
    """A few more blocks, then anvil stopped (SIGTERM: it writes its state) and started again
    from its state file, as `lotlink serve` does: the node then keeps no state for the blocks
    before the restart."""
    chain.lotlink.w3.provider.make_request(RPCEndpoint("anvil_mine"), [3])
    chain.anvil.stop()
    chain.restart_anvil()


def no_state_at(chain: OwnChain, block: int) -> bool:
    """True when the node answers a state read at `block` with an error."""
    answer = chain.lotlink.w3.provider.make_request(
        RPCEndpoint("eth_getBalance"), [chain.supplier.address, hex(block)]
    )
    return "error" in answer


@contextmanager
def own_chain_at(tmp_path: Path) -> Iterator[OwnChain]:
    chain_settings = Settings(var_dir=tmp_path / "chain", anvil_port=free_port(), rpc_url=None)
    process = start_anvil(chain_settings)
    try:
        w3 = process.web3()
        admin, relayer, supplier = dev_accounts(3)
        deployment = deploy(w3, deployer_key_or_account=admin, admin=admin.address)
        lotlink = LotlinkContract(w3, deployment.address(), load_artifact("Lotlink").abi)
        for account, role in ((relayer, Role.ANCHORER), (supplier, Role.SUPPLIER)):
            args = (account.address, role.id, GLNS[role], bytes(32))
            lotlink.transact(
                "registerActor", *args, Authorization.direct().as_tuple(), sender=admin
            )
        database = tmp_path / "lotlink.db"
        upgrade_database(f"sqlite:///{database}")
        settings = Settings(
            var_dir=tmp_path / "var",
            rpc_url=process.url,
            database_url=f"sqlite:///{database}",
            relayer_key=relayer.key.to_0x_hex(),
            admin_key=admin.key.to_0x_hex(),
        )
        settings.var_dir.mkdir()
        save_deployment(deployment, settings.deployment_file)
        engine = make_engine(settings.effective_database_url)
        try:
            yield OwnChain(settings, process, lotlink, supplier, make_session_factory(engine))
        finally:
            engine.dispose()
    finally:
        process.stop()


def submit_through_outage(
    chain: OwnChain, submitter: Submitter, **extra: str
) -> tuple[list[str], list[str]]:
    """Submits an event every 0.2 s to an anchorer (environment `extra`) while anvil stops for
    ten seconds mid-stream; once every event accepted is anchored, returns those accepted before
    the outage and those accepted from its start on.

    Submissions must go on being accepted during the outage, and wait in the outbox."""
    sessions = chain.sessions
    accepted: list[str] = []
    stop = threading.Event()

    def submit_steadily() -> None:
        while not stop.is_set():
            accepted.extend(submitter.accept(1))
            stop.wait(0.2)

    submitting = threading.Thread(target=submit_steadily)
    try:
        with anchorer_process(chain.settings, **extra):
            submitting.start()
            while len(accepted) < 5:
                time.sleep(0.05)
            wait_until_anchored(sessions, list(accepted), "before the outage")

            chain.anvil.stop()  # SIGTERM: anvil writes its state file
            during = len(accepted)
            time.sleep(10)  # the outage the issue asks for; submissions continue meanwhile
            assert len(accepted) > during, "submissions stopped while the chain was down"
            with sessions() as session:
                queued = session.scalar(
                    select(func.count())
                    .select_from(OutboxEntry)
                    .where(OutboxEntry.state != OutboxState.ANCHORED)
                )
            assert queued and queued >= len(accepted) - during

            chain.restart_anvil()
            stop.set()
            submitting.join()
            wait_until_anchored(sessions, list(accepted), "after the chain came back")
    finally:
        stop.set()
        if submitting.is_alive():
            submitting.join()
    return accepted[:during], accepted[during:]
