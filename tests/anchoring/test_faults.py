"""Faults with real processes: `lotlink anchorer` SIGKILLed at each step of its cycle, and the
chain stopped mid-stream. Every accepted event still ends anchored exactly once.

Crashes are exact, not timed: LOTLINK_TEST_CRASH_AT makes the process kill itself at a step.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from anchoring.builders import Submitter
from anchoring.checks import assert_anchored_exactly_once
from fixtures.anvil import free_port
from fixtures.world import GLNS, World
from lotlink.anchoring.faults import CRASH_ENV, CRASH_POINTS
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


def _env(settings: Settings, **extra: str) -> dict[str, str]:
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
        [*LOTLINK, "anchorer"], env=_env(settings, **extra), stdout=log, stderr=log, text=True
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) == 0, _tail(settings)
        log.close()


def _tail(settings: Settings) -> str:
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


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("step", CRASH_POINTS)
def test_sigkill_at_each_step_then_restart_anchors_every_event_once(
    step: str,
    world: World,
    service_settings: Settings,
    sessions: sessionmaker[Session],
    submitter: Submitter,
) -> None:
    start = world.w3.eth.block_number + 1
    digests = submitter.accept(7)

    with anchorer_process(service_settings, **{CRASH_ENV: step}) as crashing:
        assert crashing.wait(timeout=WAIT_SECONDS) == -signal.SIGKILL, _tail(service_settings)
    more = submitter.accept(2)  # accepted while no anchorer runs
    with anchorer_process(service_settings):
        wait_until_anchored(sessions, digests + more, f"after a crash at {step}")

    assert_anchored_exactly_once(sessions, world.lotlink, digests + more, from_block=start)


@pytest.fixture
def own_chain(tmp_path: Path) -> Iterator[tuple[Settings, AnvilProcess]]:
    """An anvil of this test's own (with --state, so it can be stopped and restarted on the
    same port), Lotlink deployed on it, a supplier and the relayer registered."""
    chain_settings = Settings(var_dir=tmp_path / "chain", anvil_port=free_port(), rpc_url=None)
    process = start_anvil(chain_settings)
    try:
        w3 = process.web3()
        accounts = dev_accounts(3)
        admin, relayer, supplier = accounts
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
        yield settings, process
    finally:
        process.stop()


def test_chain_down_for_ten_seconds_submissions_queue_and_anchoring_resumes(
    own_chain: tuple[Settings, AnvilProcess],
) -> None:
    settings, anvil = own_chain
    engine = make_engine(settings.effective_database_url)
    sessions = make_session_factory(engine)
    w3 = anvil.web3()
    lotlink = LotlinkContract(w3, _address(settings), load_artifact("Lotlink").abi)
    supplier: LocalAccount = dev_accounts(3)[2]
    submitter = Submitter(sessions, lotlink.domain, supplier)
    accepted: list[str] = []
    stop = threading.Event()

    def submit_steadily() -> None:
        while not stop.is_set():
            accepted.extend(submitter.accept(1))
            stop.wait(0.2)

    submitting = threading.Thread(target=submit_steadily)
    try:
        with anchorer_process(settings):
            submitting.start()
            while len(accepted) < 5:
                time.sleep(0.05)
            wait_until_anchored(sessions, list(accepted), "before the outage")

            anvil.stop()  # SIGTERM: anvil writes its state file
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

            restarted = start_anvil(
                Settings(var_dir=settings.var_dir.parent / "chain", anvil_port=anvil.port)
            )
            anvil.process = restarted.process  # the fixture stops whichever runs
            anvil._log = restarted._log
            stop.set()
            submitting.join()
            wait_until_anchored(sessions, list(accepted), "after the chain came back")
    finally:
        stop.set()
        if submitting.is_alive():
            submitting.join()
    assert_anchored_exactly_once(sessions, lotlink, accepted, from_block=0, verify=5)
    engine.dispose()


def _address(settings: Settings) -> str:
    from lotlink.chain.deploy import load_deployment

    deployment = load_deployment(settings.deployment_file)
    assert deployment is not None
    return deployment.address()
