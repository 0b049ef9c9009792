"""Certificate watch: reminders before a supplier's qualification certificates expire, and
shipments made while a certificate they depend on had lapsed.

- **Reminders.** For every ISO 9001 or production licence about an actor, not revoked, expiring
  within the largest of ``Settings.certificate_reminder_days`` (default 30 and 7 days): one alert
  per certificate and threshold crossed, to the supplier (and regulators, who see every alert).
- **Shipped while lapsed.** A lot shipped at an instant when a certificate it depends on did not
  hold: the supplier's qualification of some kind (ISO 9001, production licence) or one of the
  lot's own certificates (certificate of analysis, inspection report...). A kind is *lapsed* at
  that instant when the subject held a certificate of that kind already (issued, valid from an
  earlier time) and none of that kind was valid then: expired, or revoked at or before it (the
  revoking block's time). A renewal valid at the instant covers it. The lot's scan page shows the
  same finding, computed from the lot's own record.

Each finding is raised once: its alert's fingerprint names the certificate and threshold, or
the shipment and kind, and an alert with that fingerprint in any state stops it being raised
again. `run_watch` is what the service runs every ``watch_interval_seconds``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lotlink.config import Settings
from lotlink.indexer.derived import CertificateValidity, validity_of
from lotlink.models import (
    Actor,
    Certificate,
    Checkpoint,
    CheckpointStatus,
    Lot,
    SubjectKind,
)
from lotlink.services.alerts import AlertSignal, raise_alert
from lotlink.vocabulary import CertificateKind, CheckpointKind

log = logging.getLogger("lotlink.certificate_watch")

QUALIFICATIONS = (CertificateKind.ISO9001, CertificateKind.PRODUCTION_LICENCE)
KIND_WORDS = {
    CertificateKind.ISO9001: "ISO 9001 certificate",
    CertificateKind.PRODUCTION_LICENCE: "production licence",
    CertificateKind.INSPECTION_REPORT: "inspection report",
    CertificateKind.CERTIFICATE_OF_ANALYSIS: "certificate of analysis",
    CertificateKind.OTHER: "certificate",
}
#: Shipments stored this recently are checked on each run (a restart within it misses none).
SHIPMENT_LOOKBACK = timedelta(days=7)


def actor_subject(address: str) -> str:
    """The bytes32 subject the chain uses for an actor: its address left-padded."""
    return "0x" + "00" * 12 + address.lower().removeprefix("0x")


@dataclass(frozen=True, slots=True)
class Lapse:
    """At `at`, the `about` ("the supplier" or "this lot") held no valid certificate of `kind`;
    `certificate` is the newest one it had, and `state` why it did not hold."""

    at: datetime
    about: str
    kind: CertificateKind
    certificate: Certificate
    state: CertificateValidity

    @property
    def words(self) -> str:
        what = KIND_WORDS.get(self.kind, "certificate")
        how = "revoked" if self.state is CertificateValidity.REVOKED else "expired"
        owner = "the supplier's" if self.about == "the supplier" else "this lot's"
        return f"{owner} {what} was {how}"


def lapses_at(certificates: Iterable[Certificate], at: datetime, *, about: str) -> list[Lapse]:
    """The kinds among `certificates` (about one subject) that had lapsed at `at`."""
    by_kind: dict[CertificateKind, list[Certificate]] = {}
    for certificate in certificates:
        if certificate.valid_from <= at:
            by_kind.setdefault(certificate.kind, []).append(certificate)
    found = []
    for kind, held in sorted(by_kind.items()):
        states = [validity_of(c, at=at) for c in held]
        if CertificateValidity.VALID in states:
            continue
        newest = max(held, key=lambda c: c.valid_from)
        found.append(Lapse(at, about, kind, newest, validity_of(newest, at=at)))
    return found


@dataclass(frozen=True, slots=True)
class ShipmentLapse:
    checkpoint: Checkpoint
    lapse: Lapse


def certificates_of(session: Session, lot: Lot) -> tuple[list[Certificate], list[Certificate]]:
    """(the supplier's qualification certificates, the lot's own certificates), indexed only."""
    rows = session.scalars(
        select(Certificate).where(
            Certificate.block_number.is_not(None),
            (
                (Certificate.subject_kind == SubjectKind.ACTOR)
                & (Certificate.subject == actor_subject(lot.owner_address))
                & Certificate.kind.in_(QUALIFICATIONS)
            )
            | (
                (Certificate.subject_kind == SubjectKind.LOT) & (Certificate.subject == lot.lot_key)
            ),
        )
    ).all()
    supplier = [c for c in rows if c.subject_kind is SubjectKind.ACTOR]
    own = [c for c in rows if c.subject_kind is SubjectKind.LOT]
    return supplier, own


def shipment_lapses(
    session: Session, lot: Lot, shipments: Sequence[Checkpoint]
) -> list[ShipmentLapse]:
    """Each of the lot's `shipments` made while a certificate it depends on had lapsed."""
    shipped = [
        c
        for c in shipments
        if c.kind is CheckpointKind.SHIPPED and c.status is not CheckpointStatus.FAILED
    ]
    if not shipped:
        return []
    supplier, own = certificates_of(session, lot)
    found = []
    for checkpoint in shipped:
        at = checkpoint.event_time
        for lapse in [
            *lapses_at(supplier, at, about="the supplier"),
            *lapses_at(own, at, about="this lot"),
        ]:
            found.append(ShipmentLapse(checkpoint, lapse))
    return found


@dataclass(frozen=True, slots=True)
class Reminder:
    certificate: Certificate
    supplier: Actor
    days: int  # the threshold crossed
    left: timedelta


def reminders_due(session: Session, *, now: datetime, days: Sequence[int]) -> list[Reminder]:
    """Qualification certificates about actors that expire within a threshold of `days`; each
    with the smallest threshold it is within."""
    if not days:
        return []
    horizon = now + timedelta(days=max(days))
    certificates = session.scalars(
        select(Certificate).where(
            Certificate.subject_kind == SubjectKind.ACTOR,
            Certificate.kind.in_(QUALIFICATIONS),
            Certificate.block_number.is_not(None),
            Certificate.valid_until > now,
            Certificate.valid_until <= horizon,
            Certificate.valid_from <= now,
        )
    ).all()
    actors = _by_subject(session, {c.subject for c in certificates})
    found = []
    for certificate in certificates:
        supplier = actors.get(certificate.subject)
        if supplier is None or validity_of(certificate, at=now) is not CertificateValidity.VALID:
            continue
        assert certificate.valid_until is not None
        left = certificate.valid_until - now
        threshold = min(d for d in days if left <= timedelta(days=d))
        found.append(Reminder(certificate, supplier, threshold, left))
    return found


def _by_subject(session: Session, subjects: set[str]) -> dict[str, Actor]:
    addresses = {"0x" + s[-40:] for s in subjects}
    if not addresses:
        return {}
    rows = session.scalars(select(Actor).where(Actor.address.in_(addresses)))
    return {actor_subject(actor.address): actor for actor in rows}


@dataclass(frozen=True, slots=True)
class WatchResult:
    reminders: int
    shipments: int


def run_watch(
    session: Session, settings: Settings, *, now: datetime | None = None, everything: bool = False
) -> WatchResult:
    """Raises the reminders due and the alerts for shipments made while lapsed (those stored in
    the last week, or all of them with `everything`); each finding once. Commits."""
    moment = now or datetime.now(UTC)
    reminders = 0
    for reminder in reminders_due(session, now=moment, days=settings.certificate_reminder_days):
        certificate = reminder.certificate
        assert certificate.valid_until is not None
        what = KIND_WORDS.get(certificate.kind, "certificate")
        reminders += notify(
            session,
            rule="expiry_reminder",
            subject=f"{certificate.certificate_id}/{reminder.days}d",
            supplier=reminder.supplier,
            lot=None,
            reason=f"The {what} of {reminder.supplier.name or reminder.supplier.address} expires "
            f"on {certificate.valid_until:%Y-%m-%d %H:%M} UTC, in "
            f"{reminder.left.days} day{'s' if reminder.left.days != 1 else ''}: renew it before "
            "then, or its lots shipped afterwards are flagged.",
            statistic={
                "certificate_id": certificate.certificate_id,
                "kind": str(certificate.kind),
                "valid_until": certificate.valid_until.isoformat(),
                "days_before": reminder.days,
            },
            now=moment,
        )
    query = select(Checkpoint).where(
        Checkpoint.kind == CheckpointKind.SHIPPED, Checkpoint.status != CheckpointStatus.FAILED
    )
    if not everything:
        query = query.where(Checkpoint.record_time >= moment - SHIPMENT_LOOKBACK)
    by_lot: dict[str, list[Checkpoint]] = {}
    for checkpoint in session.scalars(query):
        by_lot.setdefault(checkpoint.primary_lot_key, []).append(checkpoint)
    shipments = 0
    for lot_key, checkpoints in by_lot.items():
        lot = session.get(Lot, lot_key)
        if lot is None:
            continue
        for found in shipment_lapses(session, lot, checkpoints):
            lapse = found.lapse
            shipments += notify(
                session,
                rule="shipped_while_lapsed",
                subject=f"{found.checkpoint.digest}/{lapse.certificate.certificate_id}",
                supplier=lot.owner,
                lot=lot,
                reason=f"Lot {lot.lot_code} was shipped on "
                f"{found.checkpoint.event_time:%Y-%m-%d %H:%M} UTC while {lapse.words}.",
                statistic={
                    "checkpoint": found.checkpoint.digest,
                    "shipped_at": found.checkpoint.event_time.isoformat(),
                    "certificate_id": lapse.certificate.certificate_id,
                    "kind": str(lapse.kind),
                    "about": "supplier" if lapse.about == "the supplier" else "lot",
                    "state": str(lapse.state),
                },
                now=moment,
            )
    session.commit()
    return WatchResult(reminders=reminders, shipments=shipments)


def notify(
    session: Session,
    *,
    rule: str,
    subject: str,
    supplier: Actor,
    lot: Lot | None,
    reason: str,
    statistic: dict[str, object],
    now: datetime,
) -> int:
    """Raises one certificate alert (a one-off finding: never again once closed); 1 if new."""
    alert = raise_alert(
        session,
        AlertSignal(
            kind="certificates",
            rule=rule,
            subject=subject,
            reason=reason,
            lot_key=None if lot is None else lot.lot_key,
            gtin=None if lot is None else lot.gtin,
            supplier=supplier.address,
            statistic=statistic,
        ),
        now=now,
    )
    return int(alert is not None and alert.opened_at == now)


class CertificateWatch:
    """Runs `run_watch` every ``watch_interval_seconds`` in a background thread."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self._settings = settings
        self._sessions = sessions
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lotlink-watch", daemon=True)

    def start(self) -> CertificateWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self._settings.watch_interval_seconds):
            try:
                with self._sessions() as session:
                    run_watch(session, self._settings)
            except Exception:  # the next run retries; a bad row must not end the watch
                log.exception("certificate watch failed")
