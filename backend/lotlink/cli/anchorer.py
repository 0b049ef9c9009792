"""`lotlink anchorer`: the anchorer alone, for deployments that run it apart from the API."""

from __future__ import annotations

import logging
import signal
from types import FrameType

import typer

from lotlink.config import get_settings


def anchorer() -> None:
    """Anchor accepted events until SIGTERM or Ctrl-C: drain the outbox into Merkle batches (or
    direct records), send them, store receipts. Resumes whatever a previous run left unfinished.
    Run the service with LOTLINK_ANCHORER_ENABLED=false beside it (a lock allows one anyway)."""
    from lotlink.anchoring.anchorer import Anchorer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = get_settings()
    worker = Anchorer.from_settings(settings)

    def _stop(signum: int, frame: FrameType | None) -> None:
        worker.stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    typer.echo(
        f"anchoring to Lotlink at {worker.contract.address} on chain {worker.chain_id} "
        f"({settings.anchor_mode} mode) as {worker.relayer.address}"
    )
    worker.run()
    worker.engine.dispose()
    typer.echo("anchorer stopped")
