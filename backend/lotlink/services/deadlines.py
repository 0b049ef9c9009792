"""Response deadlines of problem reports: when a complaint was received, when its first response
and its resolution are due, and whether it is late.

Deadlines are elapsed time, counted in UTC: a report received at 01:30 in Paris on the night
clocks go forward is due a first response twelve real hours later (14:30 local, not 13:30).
A received time may be given with its UTC offset ("2026-03-29T01:30:00+01:00"), or as a local
wall-clock time with an IANA zone name; a local time that the zone skips (the spring gap) or
repeats (the autumn overlap) is refused rather than guessed, since an hour's error moves the
deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, or_

from lotlink.config import Settings
from lotlink.errors import InvalidInputError
from lotlink.models import ProblemReport


@dataclass(frozen=True, slots=True)
class Deadlines:
    """When a report's first response and its resolution are due (UTC)."""

    first_response_due_at: datetime
    resolution_due_at: datetime


def deadlines_for(received_at: datetime, settings: Settings) -> Deadlines:
    """The deadlines of a report received at `received_at` (timezone-aware)."""
    start = received_at.astimezone(UTC)
    return Deadlines(
        first_response_due_at=start + timedelta(hours=settings.report_first_response_hours),
        resolution_due_at=start + timedelta(hours=settings.report_resolution_hours),
    )


def format_offset(moment: datetime) -> str:
    """The UTC offset of an aware datetime as EPCIS writes it: "+02:00", "-03:30"."""
    offset = moment.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def parse_received_at(
    value: str, *, time_zone: str | None = None, now: datetime | None = None
) -> datetime:
    """`value` as an aware datetime in the offset it was stated in (or its zone's offset).

    InvalidInputError names the field: no offset and no zone, an unknown zone, a local time
    the zone skips or repeats, an offset that contradicts the zone, or a time in the future.
    """
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            field="received_at", reason=f"not an ISO 8601 date and time: {value!r}"
        ) from None
    if time_zone is not None:
        try:
            zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInputError(
                field="time_zone", reason=f"unknown IANA time zone {time_zone!r}"
            ) from None
        if moment.tzinfo is None:
            moment = _localize(moment, zone, time_zone)
        elif moment.utcoffset() != moment.astimezone(zone).utcoffset():
            raise InvalidInputError(
                field="received_at",
                reason=f"offset {format_offset(moment)} is not {time_zone}'s at that time",
            )
    elif moment.tzinfo is None:
        raise InvalidInputError(
            field="received_at",
            reason="needs a UTC offset (e.g. +02:00 or Z), or a time_zone beside it",
        )
    if moment > (now or datetime.now(UTC)) + timedelta(minutes=5):
        raise InvalidInputError(field="received_at", reason="is in the future")
    return moment


def _localize(wall: datetime, zone: ZoneInfo, name: str) -> datetime:
    """The one instant a wall-clock time names in `zone`; refuses gaps and overlaps (PEP 495)."""
    early, late = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if early.utcoffset() == late.utcoffset():
        return early
    # A time in the gap round-trips to another wall time; one in the overlap round-trips to itself.
    if early.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        reason = f"{wall.isoformat()} does not exist in {name} (the clocks skip it)"
    else:
        reason = f"{wall.isoformat()} happens twice in {name}; give its UTC offset"
    raise InvalidInputError(field="received_at", reason=reason)


class ReportStatus(StrEnum):
    """Where a report stands for its reporter and its supplier."""

    AWAITING_RESPONSE = "awaiting_response"
    RESPONDED = "responded"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class DeadlineView:
    """A report's status at one instant. ``…_overdue``: still not done and past due;
    ``…_on_time``: done by its deadline (None while not done)."""

    status: ReportStatus
    first_response_overdue: bool
    resolution_overdue: bool
    first_response_on_time: bool | None
    resolution_on_time: bool | None

    @property
    def overdue(self) -> bool:
        return self.first_response_overdue or self.resolution_overdue


def deadline_view(
    *,
    first_response_due_at: datetime,
    resolution_due_at: datetime,
    first_response_at: datetime | None,
    resolved_at: datetime | None,
    now: datetime | None = None,
) -> DeadlineView:
    """The status of a report with these deadlines and answers, at `now` (default: now)."""
    moment = now or datetime.now(UTC)
    if resolved_at is not None:
        status = ReportStatus.RESOLVED
    elif first_response_at is not None:
        status = ReportStatus.RESPONDED
    else:
        status = ReportStatus.AWAITING_RESPONSE
    return DeadlineView(
        status=status,
        first_response_overdue=first_response_at is None and moment > first_response_due_at,
        resolution_overdue=resolved_at is None and moment > resolution_due_at,
        first_response_on_time=None
        if first_response_at is None
        else first_response_at <= first_response_due_at,
        resolution_on_time=None if resolved_at is None else resolved_at <= resolution_due_at,
    )


def overdue_filter(now: datetime) -> ColumnElement[bool]:
    """SQL: reports past a deadline they have not met (no response, or no resolution, by its
    due time)."""
    return or_(
        and_(ProblemReport.first_response_at.is_(None), ProblemReport.first_response_due_at < now),
        and_(ProblemReport.resolved_at.is_(None), ProblemReport.resolution_due_at < now),
    )
