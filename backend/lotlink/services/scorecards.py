"""Supplier scorecards: five measures from the record, one weighted score, one grade (A to E).

Each measure is scored 0 to 100 over the twelve months before the instant it is taken at:

====================== ====== =====================================================================
measure                weight score
====================== ====== =====================================================================
inspection pass rate   30     conformant inspections / inspections of the supplier's lots x 100
complaint rate         25     100 - 25 x complaints per 1,000 units shipped (0 at 4 or more)
recalls                20     100 - 50 per class I, 30 per class II, 15 per class III recall issued
certificates           15     share of the supplier's qualification kinds (ISO 9001, production
                              licence) with a certificate valid at the instant x 100; 50 when it
                              holds none
on-time responses      10     share of problem-report deadlines (first response, resolution) that
                              fell due and were met x 100
====================== ====== =====================================================================

The score is the weighted mean of the measures that have data (no inspection, nothing shipped or
no deadline due leaves that measure out, and the others' weights are scaled up to 100); the
grade is A from 90, B from 75, C from 60, D from 40, else E. Units shipped and complaints are
counted as the complaint alerts count them (`lotlink.services.complaint_alerts`): a lot's units
shipped in the window are the largest total its shipments from any one place add up to (a
shipment naming no quantity, or another unit, counts as the whole lot), at most its registered
quantity, in the lot's own unit (packs, litres, kilograms); complaints are problem reports
except those reporting a suspected counterfeit (a copy is not the supplier's fault).

The history is the same computation at the start of each of the last twelve months, using only
what the record says had happened by then (event times, report arrival, recall issue, certificate
validity and revocation times), so anyone recomputing it from the same record gets the same
figures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotlink.errors import SupplierNotFoundError
from lotlink.gs1.keys import normalize_gln
from lotlink.indexer.derived import CertificateValidity, validity_of
from lotlink.models import (
    Actor,
    Certificate,
    Checkpoint,
    CheckpointLot,
    CheckpointStatus,
    Lot,
    ProblemReport,
    Recall,
    RecallLot,
    SubjectKind,
)
from lotlink.services.complaint_alerts import NOT_ABOUT_THE_LOT
from lotlink.vocabulary import CertificateKind, CheckpointKind

WINDOW = timedelta(days=365)
HISTORY_MONTHS = 12
QUALIFICATIONS = (CertificateKind.ISO9001, CertificateKind.PRODUCTION_LICENCE)
RECALL_PENALTY = {1: 50.0, 2: 30.0, 3: 15.0}
COMPLAINT_PENALTY_PER_MILLE = 25.0
WEIGHTS = {
    "inspections": 30,
    "complaints": 25,
    "recalls": 20,
    "certificates": 15,
    "responses": 10,
}
GRADES = (("A", 90.0), ("B", 75.0), ("C", 60.0), ("D", 40.0), ("E", 0.0))
TITLES = {
    "inspections": "Inspection pass rate",
    "complaints": "Complaint rate",
    "recalls": "Recalls",
    "certificates": "Certificates",
    "responses": "On-time responses to problem reports",
}
FORMULA = (
    "score = weighted mean of the measures with data (inspection pass rate 30, complaint rate 25, "
    "recalls 20, certificates 15, on-time responses 10; weights of measures without data are "
    "shared out); grade A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E below"
)


def grade_of(score: float) -> str:
    return next(letter for letter, floor in GRADES if score >= floor)


@dataclass(frozen=True, slots=True)
class Component:
    """One measure at one instant: its score (None without data) and the figures behind it."""

    key: str
    score: float | None
    value: str
    detail: str

    @property
    def title(self) -> str:
        return TITLES[self.key]

    @property
    def weight(self) -> int:
        return WEIGHTS[self.key]


@dataclass(frozen=True, slots=True)
class Snapshot:
    at: datetime
    score: float
    grade: str
    components: list[Component]


@dataclass(frozen=True, slots=True)
class Scorecard:
    supplier: Actor
    current: Snapshot
    history: list[Snapshot]
    formula: str = FORMULA


@dataclass(frozen=True, slots=True)
class Shipment:
    """One lot's part of a shipment: when, from where, and how many of the lot's units."""

    at: datetime
    lot_key: str
    place: str | None
    units: float


def units_shipped(
    shipments: Sequence[Shipment], lot_units: dict[str, float], since: datetime, at: datetime
) -> float:
    """Units that reached the market in (`since`, `at`]: per lot, the largest total shipped
    from one place (each unit passes every tier once), at most the lot's quantity."""
    per_place: dict[tuple[str, str | None], float] = {}
    for item in shipments:
        if since < item.at <= at:
            key = (item.lot_key, item.place)
            per_place[key] = per_place.get(key, 0.0) + item.units
    per_lot: dict[str, float] = {}
    for (lot_key, _), units in per_place.items():
        per_lot[lot_key] = max(per_lot.get(lot_key, 0.0), units)
    return sum(min(units, lot_units.get(lot_key, units)) for lot_key, units in per_lot.items())


@dataclass
class SupplierRecord:
    """Everything the scorecard of one supplier reads, loaded once for all its snapshots."""

    inspections: list[tuple[datetime, bool]] = field(default_factory=list)
    shipped: list[Shipment] = field(default_factory=list)
    lot_units: dict[str, float] = field(default_factory=dict)  # registered quantity, per lot
    complaints: list[datetime] = field(default_factory=list)
    recalls: list[tuple[datetime, int]] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    # (due, met at or None) for each deadline of each report about the supplier's lots
    deadlines: list[tuple[datetime, datetime | None]] = field(default_factory=list)


def combine(components: Sequence[Component]) -> float:
    """The weighted mean of the components with data (100 when none has any)."""
    scored = [c for c in components if c.score is not None]
    total = sum(c.weight for c in scored)
    if total == 0:
        return 100.0
    return sum(c.weight * c.score for c in scored if c.score is not None) / total


def _share(part: int, whole: int) -> str:
    return f"{part} of {whole}"


def measure(record: SupplierRecord, at: datetime) -> Snapshot:
    """The scorecard as the record stood at `at`."""
    since = at - WINDOW

    inspected = [ok for when, ok in record.inspections if since < when <= at]
    passed = sum(inspected)
    inspections = Component(
        "inspections",
        None if not inspected else 100.0 * passed / len(inspected),
        "no inspections" if not inspected else f"{100 * passed / len(inspected):.0f} %",
        f"{_share(passed, len(inspected))} inspections passed",
    )

    units = units_shipped(record.shipped, record.lot_units, since, at)
    complained = sum(1 for when in record.complaints if since < when <= at)
    rate = None if units <= 0 else 1000.0 * complained / units
    complaints = Component(
        "complaints",
        None if rate is None else max(0.0, 100.0 - COMPLAINT_PENALTY_PER_MILLE * rate),
        "nothing shipped" if rate is None else f"{rate:.2f} per 1,000 units",
        f"{complained} complaint{'s' if complained != 1 else ''} about {units:,.0f} units shipped",
    )

    issued = [cls for when, cls in record.recalls if since < when <= at]
    recalls = Component(
        "recalls",
        max(0.0, 100.0 - sum(RECALL_PENALTY.get(c, 50.0) for c in issued)),
        f"{len(issued)}",
        "none issued"
        if not issued
        else ", ".join(f"class {'I' * c}" for c in sorted(issued)) + " issued",
    )

    held: dict[CertificateKind, bool] = {}
    for certificate in record.certificates:
        if certificate.valid_from > at:
            continue
        valid = validity_of(certificate, at=at) is CertificateValidity.VALID
        held[certificate.kind] = held.get(certificate.kind, False) or valid
    valid_kinds = [k for k, ok in held.items() if ok]
    certificates = Component(
        "certificates",
        50.0 if not held else 100.0 * len(valid_kinds) / len(held),
        "none on record" if not held else f"{_share(len(valid_kinds), len(held))} valid",
        "no qualification certificate on record"
        if not held
        else "; ".join(
            f"{kind.value.replace('_', ' ')}: {'valid' if ok else 'expired or revoked'}"
            for kind, ok in sorted(held.items())
        ),
    )

    due = [(d, met) for d, met in record.deadlines if since < d <= at]
    kept = sum(1 for d, met in due if met is not None and met <= d)
    responses = Component(
        "responses",
        None if not due else 100.0 * kept / len(due),
        "no deadlines due" if not due else f"{100 * kept / len(due):.0f} %",
        f"{_share(kept, len(due))} deadlines met",
    )

    components = [inspections, complaints, recalls, certificates, responses]
    score = combine(components)
    return Snapshot(at=at, score=score, grade=grade_of(score), components=components)


def month_starts(now: datetime, months: int = HISTORY_MONTHS) -> list[datetime]:
    """The first instant (UTC) of each of the `months` months before `now`'s, oldest first."""
    year, month = now.year, now.month
    starts = []
    for _ in range(months):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        starts.append(datetime(year, month, 1, tzinfo=UTC))
    return [*starts[::-1], datetime(now.year, now.month, 1, tzinfo=UTC)]


def load_record(session: Session, supplier: Actor, *, since: datetime) -> SupplierRecord:
    """The supplier's inspections, shipments, complaints, recalls, certificates and report
    deadlines since `since` (certificates: all)."""
    record = SupplierRecord()
    owned = select(Lot.lot_key).where(Lot.owner_address == supplier.address)
    record.inspections = [
        (when, disposition == "conformant")
        for when, disposition in session.execute(
            select(Checkpoint.event_time, Checkpoint.disposition).where(
                Checkpoint.primary_lot_key.in_(owned),
                Checkpoint.kind == CheckpointKind.INSPECTED,
                Checkpoint.status != CheckpointStatus.FAILED,
                Checkpoint.event_time > since,
            )
        )
    ]
    lots = session.execute(
        select(Lot.lot_key, Lot.quantity_milli, Lot.unit).where(
            Lot.owner_address == supplier.address
        )
    ).all()
    record.lot_units = {key: milli / 1000 for key, milli, _ in lots}
    unit_of = {key: unit for key, _, unit in lots}
    shipments = session.execute(
        select(
            Checkpoint.event_time,
            CheckpointLot.lot_key,
            Checkpoint.location_gln,
            CheckpointLot.quantity_milli,
            CheckpointLot.unit,
        )
        .join(CheckpointLot, CheckpointLot.checkpoint_digest == Checkpoint.digest)
        .where(
            CheckpointLot.lot_key.in_(owned),
            Checkpoint.kind == CheckpointKind.SHIPPED,
            Checkpoint.status != CheckpointStatus.FAILED,
            Checkpoint.event_time > since,
        )
    )
    for when, lot_key, place, milli, unit in shipments:
        # No quantity, or one in another unit than the lot's: the whole lot, as complaints do.
        same = unit is None or unit == unit_of.get(lot_key)
        units = milli / 1000 if milli is not None and same else record.lot_units.get(lot_key, 0.0)
        record.shipped.append(Shipment(when, lot_key, place, units))
    reports = session.execute(
        select(
            ProblemReport.received_at,
            ProblemReport.category,
            ProblemReport.first_response_due_at,
            ProblemReport.first_response_at,
            ProblemReport.resolution_due_at,
            ProblemReport.resolved_at,
        ).where(ProblemReport.lot_key.in_(owned), ProblemReport.received_at > since - WINDOW)
    )
    for received, category, response_due, responded, resolution_due, resolved in reports:
        if category not in NOT_ABOUT_THE_LOT:
            record.complaints.append(received)
        record.deadlines.append((response_due, responded))
        record.deadlines.append((resolution_due, resolved))
    record.recalls = [
        (issued, int(recall_class))
        for issued, recall_class in session.execute(
            select(Recall.issued_at, Recall.recall_class)
            .where(
                Recall.recall_id.in_(
                    select(RecallLot.recall_id).where(RecallLot.lot_key.in_(owned))
                )
            )
            .where(Recall.issued_at > since)
        )
    ]
    subject = "0x" + "00" * 12 + supplier.address.removeprefix("0x")
    record.certificates = list(
        session.scalars(
            select(Certificate).where(
                Certificate.subject_kind == SubjectKind.ACTOR,
                Certificate.subject == subject,
                Certificate.kind.in_(QUALIFICATIONS),
                Certificate.block_number.is_not(None),
            )
        )
    )
    return record


def find_supplier(session: Session, gln: str) -> Actor:
    """The actor registered with `gln` that owns lots or holds the supplier role."""
    value = normalize_gln(gln)
    actor = session.scalars(
        select(Actor).where(Actor.gln == value).order_by(Actor.created_at)
    ).first()
    if actor is None:
        raise SupplierNotFoundError(gln=value)
    return actor


def scorecard(session: Session, supplier: Actor, *, now: datetime | None = None) -> Scorecard:
    """The supplier's current scorecard and its monthly history."""
    moment = now or datetime.now(UTC)
    starts = month_starts(moment)
    record = load_record(session, supplier, since=starts[0] - WINDOW)
    history = [measure(record, at) for at in starts]
    return Scorecard(supplier=supplier, current=measure(record, moment), history=history)


class GradeCache:
    """Current grades by supplier address, reused for `ttl` seconds: every scan page shows its
    supplier's grade, and one computation serves all of a supplier's pages for that long."""

    def __init__(self, *, ttl: float = 60.0, size: int = 10_000) -> None:
        self._ttl = ttl
        self._size = size
        self._items: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def grade(self, session: Session, supplier: Actor) -> str:
        with self._lock:
            item = self._items.get(supplier.address)
            if item is not None and item[0] > time.monotonic():
                return item[1]
        moment = datetime.now(UTC)
        record = load_record(session, supplier, since=moment - WINDOW)
        letter = measure(record, moment).grade
        with self._lock:
            if len(self._items) >= self._size:
                self._items.clear()
            self._items[supplier.address] = (time.monotonic() + self._ttl, letter)
        return letter

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


grades = GradeCache()
