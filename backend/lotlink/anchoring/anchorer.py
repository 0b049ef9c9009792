"""The anchorer: the loop that takes accepted events from the outbox to receipts on chain.

Each step first finishes any batch left unfinished (built but unsent, or sent but without
stored receipts: after a crash, a restart, or an endpoint outage), then closes the next batch
and anchors it. Everything it knows lives in the database and on chain, so a step may be cut
short at any point and the next one, in this process or a restarted one, carries on.

It runs as a thread inside the service and alone as `lotlink anchorer`; a lock keeps it to
one per database (see `lotlink.anchoring.lock`).
"""

from __future__ import annotations

import logging
import random
import threading
from datetime import timedelta
from typing import Self

from sqlalchemy import Engine, exists, select
from sqlalchemy.orm import Session, sessionmaker
from web3 import HTTPProvider, Web3

from lotlink.anchoring.batcher import Batcher, BatchPolicy, Destination
from lotlink.anchoring.direct import DirectRecorder
from lotlink.anchoring.faults import crash_point
from lotlink.anchoring.lock import AnchorerLock, read_transaction, write_transaction
from lotlink.anchoring.manifest import BuiltManifests, ManifestStore, built_manifests
from lotlink.anchoring.receipts import store_receipts
from lotlink.anchoring.sender import AnchorSender, AnchorStoppedError, chain_errors
from lotlink.chain.compile import load_artifact
from lotlink.chain.contract import LotlinkContract
from lotlink.chain.deploy import load_deployment
from lotlink.chain.relayer import Relayer
from lotlink.config import Settings
from lotlink.db.engine import make_engine, make_session_factory
from lotlink.errors import ChainIdMismatchError, DeploymentMissingError, LotlinkError
from lotlink.models import Batch, BatchManifest, BatchStatus

log = logging.getLogger("lotlink.anchoring")

#: How often an idle anchorer looks at the outbox.
POLL_SECONDS = 0.05
BACKOFF_FIRST_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 5.0


class Backoff:
    """Exponential delays with jitter between failed attempts; reset by a success."""

    def __init__(self, first: float = BACKOFF_FIRST_SECONDS, cap: float = BACKOFF_MAX_SECONDS):
        self.first, self.cap, self.failures = first, cap, 0

    def next(self) -> float:
        delay = min(self.cap, self.first * 2**self.failures)
        self.failures += 1
        return delay * random.uniform(0.8, 1.0)

    def reset(self) -> None:
        self.failures = 0


class Anchorer:
    """Drains the outbox of one database onto one Lotlink deployment."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine,
        contract: LotlinkContract,
        relayer: Relayer,
        chain_id: int,
        replace_after: float = 30.0,
        built: BuiltManifests = built_manifests,
    ) -> None:
        self.settings = settings
        self.engine = engine
        # Its writes go first at SQLite's writer gate: the outbox drains however fast captures
        # arrive (which then wait their turn: back-pressure, not an ever-growing backlog).
        self.sessions: sessionmaker[Session] = make_session_factory(engine, writer_priority=True)
        self.contract = contract
        self.chain_id = chain_id
        self.relayer = relayer
        self.stopping = threading.Event()
        self.manifests = ManifestStore(settings.var_dir / "manifests")
        # The manifests this process built: a batch's receipts take its tree from here (an
        # empty one, or a restart, makes them parse the stored manifest instead).
        self.built = built
        self.batcher = Batcher(
            self.sessions,
            policy=BatchPolicy(
                size=settings.batch_size,
                interval=timedelta(milliseconds=settings.batch_interval_ms),
            ),
            destination=Destination(
                chain_id=chain_id,
                contract_address=contract.address,
                anchorer_address=relayer.address,
                public_base_url=settings.public_base_url,
            ),
            manifests=self.manifests,
            self_custody_only=settings.anchor_mode == "direct",
            built=built,
        )
        self.sender = AnchorSender(
            contract,
            relayer,
            self.sessions,
            confirmations=settings.confirmations,
            replace_after=replace_after,
            stop=self.stopping,
        )
        self.direct = DirectRecorder(settings, contract, relayer, self.sessions, stop=self.stopping)
        self.lock = AnchorerLock(engine, var_dir=settings.var_dir)
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        engine: Engine | None = None,
        relayer: Relayer | None = None,
        built: BuiltManifests = built_manifests,
    ) -> Self:
        """An anchorer for the recorded deployment; `engine` and `relayer` may be shared with
        the service (one relayer per process keeps the account's nonces in one sequence)."""
        deployment = load_deployment(settings.deployment_file)
        if deployment is None:
            raise DeploymentMissingError(reason=f"{settings.deployment_file} does not exist")
        if relayer is None:
            provider = HTTPProvider(
                settings.effective_rpc_url,
                request_kwargs={"timeout": 10},
                exception_retry_configuration=None,
            )
            contract = LotlinkContract(
                Web3(provider), deployment.address(), load_artifact("Lotlink").abi
            )
            relayer = Relayer.of_service(settings, contract)
        return cls(
            settings,
            engine=engine or make_engine(settings.effective_database_url),
            contract=relayer.contract,
            relayer=relayer,
            chain_id=deployment.chain_id,
            built=built,
        )

    # -- one step -----------------------------------------------------------------------------

    def step(self) -> bool:
        """Does one unit of work; False when there was nothing to do."""
        unfinished = self._unfinished_batch()
        if unfinished is not None:
            self._finish(unfinished)
            return True
        if self.settings.anchor_mode == "direct" and self.direct.step():
            return True
        if self.batcher.seconds_until_due() is None:
            return False
        crash_point("before_batch")
        root = self.batcher.close_batch()
        if root is None:
            return False
        crash_point("after_batch")
        self._finish(root)
        return True

    def _unfinished_batch(self) -> str | None:
        with read_transaction(self.sessions) as session:
            return session.scalar(
                select(Batch.root)
                .where(
                    Batch.status.in_([BatchStatus.BUILT, BatchStatus.SENT]),
                    exists().where(BatchManifest.root == Batch.root),
                )
                .order_by(Batch.created_at)
                .limit(1)
            )

    def _finish(self, root: str) -> None:
        try:
            anchor = self.sender.anchor(root)
            crash_point("after_receipt")
            count = store_receipts(self.sessions, anchor, built=self.built)
        except AnchorStoppedError:
            raise
        except Exception as error:
            self._note_error(root, error)
            raise
        log.info("batch %s anchored in block %d: %d receipts", root, anchor.block_number, count)

    def _note_error(self, root: str, error: Exception) -> None:
        try:
            with write_transaction(self.sessions) as session:
                batch = session.get(Batch, root)
                if batch is not None:
                    batch.last_error = f"{type(error).__name__}: {error}"[:1000]
        except Exception:  # the database may be what failed
            log.debug("could not record the error of batch %s", root, exc_info=True)

    def drain(self, *, max_steps: int = 10_000) -> None:
        """Steps until nothing is left to do, closing partial batches at once (tests, bench)."""
        for _ in range(max_steps):
            if self.step():
                continue
            if self.batcher.close_batch(force=True) is None:
                return
        raise RuntimeError("the anchorer did not drain")

    # -- the loop -----------------------------------------------------------------------------

    def check_chain(self) -> None:
        """Raises ChainIdMismatchError when the endpoint is not the deployment's chain."""
        with chain_errors(self.sender.url):
            actual = int(self.contract.w3.eth.chain_id)
        if actual != self.chain_id:
            raise ChainIdMismatchError(
                expected=self.chain_id, actual=actual, url=self.settings.effective_rpc_url
            )

    def run(self) -> None:
        """Anchors until `stop()`; waits its turn while another anchorer holds the database."""
        waited = False
        while not self.lock.try_acquire():
            if not waited:
                log.info("another anchorer holds this database; waiting for it")
                waited = True
            if self.stopping.wait(1.0):
                return
        try:
            self._loop()
        finally:
            self.lock.release()

    def _loop(self) -> None:
        backoff = Backoff()
        checked = False
        while not self.stopping.is_set():
            try:
                if not checked:
                    self.check_chain()
                    checked = True
                worked = self.step()
            except AnchorStoppedError:
                return
            except ChainIdMismatchError as error:
                log.error("anchorer stopped: %s", error)
                return
            except Exception as error:
                delay = backoff.next()
                if isinstance(error, LotlinkError) and error.retryable:
                    log.warning("anchoring paused %.1fs: %s", delay, error)
                else:
                    log.exception("anchoring failed; retrying in %.1fs", delay)
                self.stopping.wait(delay)
                continue
            backoff.reset()
            if not worked:
                self.stopping.wait(POLL_SECONDS)

    def start(self) -> None:
        """Runs the loop in a background thread."""
        self._thread = threading.Thread(target=self.run, name="lotlink-anchorer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Asks the loop to stop after the current database transaction, and waits for it."""
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


def start_anchorer(
    settings: Settings, engine: Engine, *, relayer: Relayer | None = None
) -> Anchorer | None:
    """The service's anchorer thread, started; None (and a log line) without a deployment.
    Pass the service's relayer, so that the account's nonces stay in one sequence."""
    try:
        anchorer = Anchorer.from_settings(settings, engine=engine, relayer=relayer)
    except LotlinkError as error:
        log.warning("the anchorer does not run: %s", error)
        return None
    anchorer.start()
    return anchorer
