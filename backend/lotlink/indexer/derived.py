"""State derived from the index that pages and exports read: a lot's journey, its lineage
with quantities, its recall status (inherited from ancestor lots too) and certificate validity.

Everything here is a query over the indexed tables, so it is current as soon as a range is
committed and needs no rollback of its own. The lineage walks are recursive CTEs that run on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import CTE, Select, literal, or_, select
from sqlalchemy.orm import Session

from lotlink.models import (
    AnchorReceipt,
    Certificate,
    Checkpoint,
    CheckpointLot,
    LineageEdge,
    Recall,
    RecallLot,
    RecallStatus,
)
from lotlink.models.types import _to_hex

#: Lineage deeper than this is not followed (a guard; real supply chains are far shallower).
MAX_DEPTH = 64


def _key(lot_key: str | bytes) -> str:
    return _to_hex(lot_key, size=32, what="lot key")


def _walk(lot_key: str, *, upstream: bool) -> CTE:
    """(lot_key, depth) of every lot reachable from `lot_key`, itself at depth 0."""
    edge = LineageEdge.__table__.c
    near, far = (edge.child_key, edge.parent_key) if upstream else (edge.parent_key, edge.child_key)
    seed = select(literal(lot_key).label("lot_key"), literal(0).label("depth"))
    walk = seed.cte("lineage_walk", recursive=True)
    step = select(far.label("lot_key"), (walk.c.depth + 1).label("depth")).where(
        near == walk.c.lot_key, walk.c.depth < MAX_DEPTH
    )
    return walk.union_all(step)


def lots_and_ancestors(seed: Select[str]) -> CTE:
    """(lot_key) of every lot `seed` selects (one column, ``lot_key``) and every lot upstream of
    them, each once: the lots whose recalls reach the seed lots. One recursive CTE; UNION, so an
    ancestor shared by many seed lots is walked once."""
    edge = LineageEdge.__table__.c
    walk = seed.cte("ancestor_walk", recursive=True)
    return walk.union(
        select(edge.parent_key.label("lot_key")).where(edge.child_key == walk.c.lot_key)
    )


def related_lots(session: Session, lot_key: str | bytes, *, upstream: bool) -> dict[str, int]:
    """Every lot upstream (its sources) or downstream (made from it) of `lot_key`, with the
    fewest lineage steps to each; the lot itself at 0."""
    walk = _walk(_key(lot_key), upstream=upstream)
    found: dict[str, int] = {}
    for key, depth in session.execute(select(walk.c.lot_key, walk.c.depth)):
        if key not in found or depth < found[key]:
            found[key] = depth
    return found


def lineage_edges(session: Session, lot_key: str | bytes, *, upstream: bool) -> list[LineageEdge]:
    """The edges of the trace upstream or downstream of `lot_key`, with quantities consumed."""
    lots = list(related_lots(session, lot_key, upstream=upstream))
    column = LineageEdge.child_key if upstream else LineageEdge.parent_key
    return list(
        session.scalars(
            select(LineageEdge)
            .where(column.in_(lots))
            .order_by(LineageEdge.child_key, LineageEdge.parent_key)
        )
    )


@dataclass(frozen=True, slots=True)
class LotRecallView:
    """One active recall that affects a lot, directly or through an ancestor."""

    recall_id: int
    recall_class: int
    recalled_lot: str
    depth: int  # 0: the lot itself is named; n: named on an ancestor n lineage steps up

    @property
    def inherited(self) -> bool:
        return self.depth > 0


@dataclass(frozen=True, slots=True)
class RecallStatusView:
    """A lot's recall status: the active recalls reaching it, most severe class first."""

    lot_key: str
    recalls: list[LotRecallView]

    @property
    def recalled(self) -> bool:
        return bool(self.recalls)

    @property
    def most_severe_class(self) -> int | None:
        return min((r.recall_class for r in self.recalls), default=None)


def recall_status(session: Session, lot_key: str | bytes) -> RecallStatusView:
    """Active recalls naming `lot_key` or any lot upstream of it (one query, recursive CTE)."""
    key = _key(lot_key)
    walk = _walk(key, upstream=True)
    rows = session.execute(
        select(Recall.recall_id, Recall.recall_class, RecallLot.lot_key, walk.c.depth)
        .join(RecallLot, RecallLot.recall_id == Recall.recall_id)
        .join(walk, walk.c.lot_key == RecallLot.lot_key)
        .where(Recall.status == RecallStatus.ACTIVE)
    )
    best: dict[tuple[int, str], LotRecallView] = {}
    for recall_id, recall_class, recalled, depth in rows:
        view = LotRecallView(int(recall_id), int(recall_class), recalled, int(depth))
        known = best.get((view.recall_id, recalled))
        if known is None or view.depth < known.depth:
            best[(view.recall_id, recalled)] = view
    ordered = sorted(best.values(), key=lambda r: (r.recall_class, r.depth, r.recall_id))
    return RecallStatusView(lot_key=key, recalls=ordered)


class CertificateValidity(StrEnum):
    """Whether a certificate holds at an instant, as the chain's `isCertificateValid` says."""

    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    UNKNOWN = "unknown"


def certificate_validity(
    session: Session, certificate_id: str | bytes, *, at: datetime | None = None
) -> CertificateValidity:
    """The validity of a certificate at `at` (default: now) by the index."""
    certificate = session.get(Certificate, _to_hex(certificate_id, size=32, what="certificate"))
    if certificate is None or certificate.block_number is None:
        return CertificateValidity.UNKNOWN
    return validity_of(certificate, at=at)


def validity_of(certificate: Certificate, *, at: datetime | None = None) -> CertificateValidity:
    """A revocation counts from its block's time (`revoked_at`); one indexed without a time
    counts at every instant."""
    moment = at or datetime.now(UTC)
    if certificate.revoked and (certificate.revoked_at is None or moment >= certificate.revoked_at):
        return CertificateValidity.REVOKED
    if moment < certificate.valid_from:
        return CertificateValidity.NOT_YET_VALID
    if certificate.valid_until is not None and moment >= certificate.valid_until:
        return CertificateValidity.EXPIRED
    return CertificateValidity.VALID


@dataclass(frozen=True, slots=True)
class JourneyStep:
    """One checkpoint of a lot's journey, with its anchor when the chain holds it."""

    checkpoint: Checkpoint
    receipt: AnchorReceipt | None


def lot_journey(session: Session, lot_key: str | bytes) -> list[JourneyStep]:
    """The checkpoints touching `lot_key`, in event time order (ties by digest)."""
    key = _key(lot_key)
    touching = select(CheckpointLot.checkpoint_digest).where(CheckpointLot.lot_key == key)
    rows = session.execute(
        select(Checkpoint, AnchorReceipt)
        .outerjoin(AnchorReceipt, AnchorReceipt.event_digest == Checkpoint.digest)
        .where(or_(Checkpoint.primary_lot_key == key, Checkpoint.digest.in_(touching)))
        .order_by(Checkpoint.event_time, Checkpoint.digest)
    )
    return [JourneyStep(checkpoint, receipt) for checkpoint, receipt in rows]
