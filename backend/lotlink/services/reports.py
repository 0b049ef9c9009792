"""Problem reports from consumers: validated, stored with an optional photo, limited per client,
and shown to the lot's supplier and to regulators.

The rate limit is a sliding window kept in this process's memory (per client address): no
address is written to the database. With several worker processes each keeps its own window.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lotlink.config import Settings
from lotlink.errors import ReportRateLimitedError, ReportRejectedError, RoleNotAllowedError
from lotlink.models import Actor, Lot, ProblemReport, ReportCategory
from lotlink.services.actors import actor_roles
from lotlink.services.complaint_alerts import evaluate_lot
from lotlink.services.deadlines import deadlines_for, format_offset, overdue_filter
from lotlink.services.documents import sniff_media_type, store_document
from lotlink.vocabulary import Role

log = logging.getLogger("lotlink.reports")

PHOTO_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP"}
MAX_DESCRIPTION = 4000
MAX_CONTACT = 200
CATEGORY_LABELS = {
    ReportCategory.QUALITY_DEFECT: "Quality defect",
    ReportCategory.ILLNESS_OR_INJURY: "Illness or injury",
    ReportCategory.DAMAGED: "Damaged",
    ReportCategory.SUSPECTED_COUNTERFEIT: "Suspected counterfeit",
    ReportCategory.OTHER: "Other",
}
# Crockford's base32 without I, L, O, U: nothing to misread over the phone.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class SlidingWindowLimiter:
    """At most `limit` hits per `window` seconds per key; thread-safe."""

    def __init__(self, *, limit: int, window_seconds: int) -> None:
        self.limit = limit
        self.window = window_seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, *, now: float | None = None) -> None:
        """Counts a hit for `key`; ReportRateLimitedError if the window is already full."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= moment - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                retry = int(hits[0] + self.window - moment) + 1
                raise ReportRateLimitedError(
                    limit=self.limit, window_seconds=self.window, retry_after=retry
                )
            hits.append(moment)
            if len(self._hits) > 100_000:  # forget idle clients rather than grow without end
                for stale in [
                    k for k, v in self._hits.items() if not v or v[-1] < moment - self.window
                ]:
                    del self._hits[stale]


@dataclass(frozen=True, slots=True)
class ReportForm:
    """What a consumer typed, as received (kept to re-render the form after a refusal)."""

    category: str = ""
    description: str = ""
    contact: str = ""


def new_reference() -> str:
    return "PR-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def validate_form(form: ReportForm) -> tuple[ReportCategory, str, str | None]:
    try:
        category = ReportCategory(form.category)
    except ValueError:
        raise ReportRejectedError(
            field="category", reason="please choose what kind of problem it is"
        ) from None
    description = form.description.strip()
    if not description:
        raise ReportRejectedError(field="description", reason="please describe the problem")
    if len(description) > MAX_DESCRIPTION:
        raise ReportRejectedError(
            field="description", reason=f"please keep it under {MAX_DESCRIPTION} characters"
        )
    contact = form.contact.strip() or None
    if contact is not None and len(contact) > MAX_CONTACT:
        raise ReportRejectedError(
            field="contact", reason=f"please keep it under {MAX_CONTACT} characters"
        )
    return category, description, contact


def check_photo(data: bytes, *, limit: int) -> str:
    """The photo's media type (sniffed from its bytes); ReportRejectedError if it is refused."""
    if len(data) > limit:
        raise ReportRejectedError(
            field="photo", reason=f"the photo is larger than {limit // (1024 * 1024)} MB"
        )
    media_type = sniff_media_type(data[:16])
    if media_type not in PHOTO_TYPES:
        raise ReportRejectedError(
            field="photo", reason="the photo must be a JPEG, PNG or WebP image"
        )
    return media_type


def create_report(
    session: Session,
    settings: Settings,
    *,
    lot: Lot,
    serial: str | None,
    form: ReportForm,
    photo: bytes | None,
    photo_name: str | None,
    received_at: datetime | None = None,
    submitted_by: str | None = None,
) -> ProblemReport:
    """Validates and stores a report; ReportRejectedError names the field it refuses.

    `received_at` (default: now), in the offset it was stated in, is when the complaint reached
    the first hand; `submitted_by` is the actor forwarding it. Its deadlines count from then."""
    category, description, contact = validate_form(form)
    photo_sha256 = None
    if photo:
        check_photo(photo, limit=settings.report_photo_max_bytes)
        stored = store_document(session, settings, data=photo, filename=photo_name, uploader=None)
        photo_sha256 = stored.document.sha256
    arrived = datetime.now(UTC)
    received = (received_at or arrived).astimezone(UTC)
    deadlines = deadlines_for(received, settings)
    for _ in range(5):
        report = ProblemReport(
            reference=new_reference(),
            lot_key=lot.lot_key,
            serial=serial,
            category=category,
            description=description,
            contact=contact,
            photo_sha256=photo_sha256,
            created_at=arrived,
            received_at=received,
            received_offset=None if received_at is None else format_offset(received_at),
            submitted_by=submitted_by,
            first_response_due_at=deadlines.first_response_due_at,
            resolution_due_at=deadlines.resolution_due_at,
        )
        session.add(report)
        try:
            session.commit()
        except IntegrityError:  # a reference drawn twice (about 1 in 10^12): draw again
            session.rollback()
            continue
        evaluate_arrival(session, settings, report)
        return report
    raise RuntimeError("could not draw a unique report reference")


def evaluate_arrival(session: Session, settings: Settings, report: ProblemReport) -> None:
    """Runs the complaint rules on the report's lot. The report is already stored: a failure
    here is logged, not shown to the reporter, and the periodic sweep catches up."""
    try:
        evaluate_lot(session, settings, report.lot_key)
        session.commit()
    except Exception:
        session.rollback()
        log.exception("complaint rules failed for report %s", report.reference)


def list_reports(
    session: Session,
    actor: Actor,
    *,
    lot_key: str | None = None,
    overdue_at: datetime | None = None,
    limit: int = 500,
) -> list[tuple[ProblemReport, Lot]]:
    """Reports the actor may read, newest first: regulators see all, suppliers their lots' and
    those they forwarded; with `overdue_at`, only those past a deadline not met by then."""
    roles = actor_roles(actor)
    query = select(ProblemReport, Lot).join(Lot, Lot.lot_key == ProblemReport.lot_key)
    if Role.REGULATOR not in roles:
        if Role.SUPPLIER not in roles:
            raise RoleNotAllowedError(
                actor=actor.address,
                action="read problem reports",
                allowed=["supplier", "regulator"],
            )
        query = query.where(
            or_(Lot.owner_address == actor.address, ProblemReport.submitted_by == actor.address)
        )
    if lot_key is not None:
        query = query.where(ProblemReport.lot_key == lot_key)
    if overdue_at is not None:
        query = query.where(overdue_filter(overdue_at))
    rows = session.execute(
        query.order_by(ProblemReport.created_at.desc(), ProblemReport.id.desc()).limit(limit)
    )
    return [(report, lot) for report, lot in rows]
