"""`lotlink indexer` (follow the chain alone, until SIGTERM) and `lotlink reindex` (rebuild the
index from the deployment block)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

import typer

from lotlink.config import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from lotlink.chain.deploy import Deployment
    from lotlink.indexer.follower import Follower


@contextmanager
def _ready(settings: Settings) -> Iterator[tuple[Deployment, Engine]]:
    """The verified deployment and a migrated database's engine; the chain must answer."""
    from lotlink.chain.deploy import load_deployment, verify_deployment
    from lotlink.chain.node import connect
    from lotlink.db.engine import make_engine
    from lotlink.db.migrate import upgrade_database
    from lotlink.errors import DeploymentMissingError

    w3 = connect(settings)
    deployment = load_deployment(settings.deployment_file)
    if deployment is None:
        raise DeploymentMissingError(
            reason=f"none recorded in {settings.deployment_file}; run `lotlink deploy`"
        )
    verify_deployment(deployment, w3, url=settings.effective_rpc_url)
    upgrade_database(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    try:
        yield deployment, engine
    finally:
        engine.dispose()


def _log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, format="lotlink: %(message)s")


def indexer() -> None:
    """Follow the chain into the database alone (with LOTLINK_INDEXER_ENABLED=false in the
    service) until SIGTERM or Ctrl-C. A second indexer on the same database waits."""
    from lotlink.indexer.service import make_follower

    _log_to_stderr()
    settings = get_settings()
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with _ready(settings) as (deployment, engine):
        follower = make_follower(settings, engine, deployment)
        typer.echo(
            f"indexing Lotlink at {deployment.address()} from block "
            f"{deployment.start_block()} into the database; SIGTERM stops"
        )
        _echo_unresolved(follower)
        try:
            follower.run(stop)
        finally:
            follower.close()
        _echo_unresolved(follower)
    typer.echo("indexer stopped")


def _echo_unresolved(follower: Follower) -> None:
    """How many anchored batches have no verified manifest (their events are not indexed)."""
    count = follower.unresolved_manifests()
    if count:
        typer.echo(
            f"{count} batch manifest{'s' if count != 1 else ''} unresolved: their events are not "
            "indexed (see the log above, the batch table's manifest_error, or /healthz)"
        )
    else:
        typer.echo("batch manifests: all verified")


def reindex() -> None:
    """Forget the index and rebuild it from the deployment block, then exit. Waits for a
    running indexer's lock: stop it (or the service) first."""
    from lotlink.indexer.cursor import writer_lock
    from lotlink.indexer.service import make_follower

    _log_to_stderr()
    settings = get_settings()
    with _ready(settings) as (deployment, engine):
        follower = make_follower(settings, engine, deployment)
        try:
            with writer_lock(engine) as _held:
                started = time.perf_counter()
                follower.reset()
                follower.catch_up()
                elapsed = time.perf_counter() - started
        finally:
            follower.close()
        typer.echo(
            f"reindexed blocks {deployment.start_block()}..{follower.status.cursor_block} "
            f"in {elapsed:.1f}s"
        )
        _echo_unresolved(follower)
