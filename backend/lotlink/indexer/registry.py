"""Handlers keyed by event name, and the order in which groups of events are applied.

Within one range, events are applied group by group (actors, lots, anchors, certificates,
recalls): each group depends only on the ones before it (a lot's owner is an actor, a recall
names lots), and inside a group logs keep chain order, so a later log for the same key wins.
Handlers are upserts keyed by the chain's keys: applying a log over a row the write path
inserted first, or re-applying history after a reorg, ends in the same row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from lotlink.chain.decode import ChainLog

if TYPE_CHECKING:
    from lotlink.indexer.manifests import ManifestResult, RetryPolicy


@dataclass
class ApplyReport:
    """What applying a range did, for logs and /healthz."""

    applied: int = 0
    receipts: int = 0
    unknown_events: int = 0
    rebuilt: int = 0  # events created from batch manifests
    manifest_problems: list[str] = field(default_factory=list)


@dataclass
class ApplyContext:
    """One database transaction applying logs; manifests were fetched before it began."""

    conn: Connection
    manifests: dict[str, ManifestResult] = field(default_factory=dict)
    report: ApplyReport = field(default_factory=ApplyReport)
    # When an unresolved manifest is tried again (None: `RetryPolicy()`'s defaults).
    manifest_retry: RetryPolicy | None = None


Handler = Callable[[ApplyContext, list[ChainLog]], None]

#: Groups of events in the order they are applied; one handler per group.
PHASES: tuple[tuple[str, ...], ...] = (
    ("RoleGranted", "RoleRevoked", "ActorRegistered", "ActorProfileUpdated"),
    ("LotRegistered",),
    ("CheckpointRecorded",),
    ("BatchAnchored",),
    ("CertificateIssued", "CertificateRevoked"),
    ("RecallIssued", "LotRecalled", "RecallUpdated", "RecallClosed"),
)
PHASE_OF = {name: index for index, names in enumerate(PHASES) for name in names}
HANDLERS: dict[tuple[str, ...], Handler] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    """Registers a handler for one group of `PHASES`."""
    group = tuple(names)
    if group not in PHASES:
        raise ValueError(f"{group} is not a phase of the indexer")

    def register(handler: Handler) -> Handler:
        HANDLERS[group] = handler
        return handler

    return register


def block_time(log: ChainLog) -> datetime:
    """The instant of the log's block (the follower fills timestamps before applying)."""
    if log.timestamp is None:
        raise ValueError(f"log {log.tx_hash}:{log.log_index} has no block timestamp")
    return datetime.fromtimestamp(log.timestamp, UTC)


def provenance(log: ChainLog) -> dict[str, object]:
    """The ChainProvenance columns of a row made by `log`."""
    return {"block_number": log.block_number, "tx_hash": log.tx_hash, "log_index": log.log_index}


PROVENANCE = ("block_number", "tx_hash", "log_index")
