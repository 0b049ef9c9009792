"""The service's work off the request path: the indexer, the anchorer, and the periodic rounds
(complaint sweeps, certificate watch, webhook delivery, expired idempotency keys).

One process runs it. `create_app` starts it inside the app when the service is one process
(`lotlink serve --workers 1`, tests); with several web workers, `lotlink serve` starts it once,
in its own process beside the workers, so that anchoring and indexing neither run twice nor
share a core's interpreter lock with requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine

from lotlink.anchoring.anchorer import Anchorer, start_anchorer
from lotlink.chain.deploy import Deployment
from lotlink.config import Settings
from lotlink.db.engine import make_session_factory
from lotlink.indexer.follower import FollowerThread
from lotlink.indexer.service import start_indexer
from lotlink.services.certificate_watch import CertificateWatch
from lotlink.services.chain_access import ChainAccess
from lotlink.services.complaint_alerts import start_sweeper
from lotlink.services.idempotency import start_key_purge
from lotlink.services.webhook_delivery import start_deliverer


class _Stoppable(Protocol):
    def stop(self) -> None: ...


@dataclass
class Background:
    """What `start_background` started, to stop in reverse order."""

    indexer: FollowerThread | None = None
    anchorer: Anchorer | None = None
    periodic: list[_Stoppable] = field(default_factory=list)

    def stop(self) -> None:
        for task in reversed(self.periodic):
            task.stop()
        if self.indexer is not None:
            self.indexer.stop()
        if self.anchorer is not None:
            self.anchorer.stop()


def start_background(
    settings: Settings, engine: Engine, deployment: Deployment | None, chain: ChainAccess | None
) -> Background:
    """Starts what `settings` enables; `chain` lends the anchorer its relayer (one nonce
    sequence per process for the account both send from)."""
    background = Background()
    # The indexer follows the chain into SQL; off when `lotlink indexer` runs it alone.
    if settings.indexer_enabled and deployment is not None:
        background.indexer = start_indexer(settings, engine, deployment)
    if settings.anchorer_enabled:
        background.anchorer = start_anchorer(
            settings, engine, relayer=None if chain is None else chain.relayer
        )
    if settings.periodic_enabled:
        # Certificates watched, complaints swept, expired keys deleted, webhooks delivered.
        background.periodic.append(CertificateWatch(settings, make_session_factory(engine)).start())
        background.periodic.append(start_sweeper(settings, engine))
        background.periodic.append(start_key_purge(settings, engine))
        if settings.webhooks_enabled:
            background.periodic.append(start_deliverer(settings, engine))
    return background
