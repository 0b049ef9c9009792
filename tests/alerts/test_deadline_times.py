"""Response deadlines are elapsed hours counted in UTC, whatever offset or zone a report's
received time is stated in, across daylight-saving changes in both hemispheres; local times
a zone skips or repeats are refused rather than guessed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lotlink.config import Settings
from lotlink.errors import InvalidInputError
from lotlink.services.deadlines import (
    DeadlineView,
    ReportStatus,
    deadline_view,
    deadlines_for,
    format_offset,
    parse_received_at,
)

SETTINGS = Settings()
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def parse(value: str, zone: str | None = None) -> datetime:
    return parse_received_at(value, time_zone=zone, now=NOW)


@pytest.mark.parametrize(
    ("stated", "zone", "utc"),
    [
        # Paris, the night clocks go forward (02:00 CET -> 03:00 CEST).
        ("2026-03-29T01:30:00+01:00", None, "2026-03-29T00:30:00"),
        ("2026-03-29T01:30:00", "Europe/Paris", "2026-03-29T00:30:00"),
        ("2026-03-29T03:30:00", "Europe/Paris", "2026-03-29T01:30:00"),
        # New York, the night clocks go back: 01:30 happens twice; the offset decides.
        ("2026-11-01T01:30:00-04:00", "America/New_York", "2026-11-01T05:30:00"),
        ("2026-11-01T01:30:00-05:00", "America/New_York", "2026-11-01T06:30:00"),
        # Sydney's autumn (April) change, and half-hour zones.
        ("2026-04-05T01:30:00", "Australia/Sydney", "2026-04-04T14:30:00"),
        ("2026-04-05T03:30:00", "Australia/Sydney", "2026-04-04T17:30:00"),
        ("2026-06-01T09:00:00", "Asia/Kolkata", "2026-06-01T03:30:00"),
        ("2026-06-01T09:00:00+05:45", None, "2026-06-01T03:15:00"),
        ("2026-06-01T09:00:00Z", None, "2026-06-01T09:00:00"),
    ],
)
def test_a_received_time_means_one_instant(stated: str, zone: str | None, utc: str) -> None:
    moment = parse(stated, zone)
    assert moment.astimezone(UTC) == datetime.fromisoformat(utc).replace(tzinfo=UTC)


def test_deadlines_are_elapsed_hours_across_the_spring_change() -> None:
    received = parse("2026-03-29T01:30:00", "Europe/Paris")
    due = deadlines_for(received, SETTINGS)
    paris = ZoneInfo("Europe/Paris")
    # Twelve real hours, which the wall clock shows as thirteen: 01:30 CET -> 14:30 CEST.
    assert due.first_response_due_at == datetime(2026, 3, 29, 12, 30, tzinfo=UTC)
    assert due.first_response_due_at.astimezone(paris).strftime("%H:%M %z") == "14:30 +0200"
    assert due.resolution_due_at - received == timedelta(hours=48)
    assert format_offset(received) == "+01:00"


def test_deadlines_are_elapsed_hours_across_the_autumn_change() -> None:
    received = parse("2026-11-01T00:30:00", "America/New_York")  # EDT, before the change
    due = deadlines_for(received, SETTINGS)
    new_york = ZoneInfo("America/New_York")
    # Twelve real hours, which the wall clock shows as eleven: 00:30 EDT -> 11:30 EST.
    assert due.first_response_due_at.astimezone(new_york).strftime("%H:%M %z") == "11:30 -0500"


def test_the_same_instant_in_any_offset_has_the_same_deadlines() -> None:
    stated = [
        "2026-07-14T08:00:00+00:00",
        "2026-07-14T10:00:00+02:00",
        "2026-07-14T04:00:00-04:00",
        "2026-07-14T17:30:00+09:30",
        "2026-07-14T20:45:00+12:45",
    ]
    due = {deadlines_for(parse(value), SETTINGS) for value in stated}
    assert len(due) == 1
    (only,) = due
    assert only.first_response_due_at == datetime(2026, 7, 14, 20, 0, tzinfo=UTC)


def test_configured_hours_move_the_deadlines() -> None:
    settings = Settings(report_first_response_hours=4, report_resolution_hours=24.5)
    due = deadlines_for(parse("2026-07-14T08:00:00Z"), settings)
    assert due.first_response_due_at == datetime(2026, 7, 14, 12, 0, tzinfo=UTC)
    assert due.resolution_due_at == datetime(2026, 7, 15, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stated", "zone", "field", "message"),
    [
        ("2026-03-29T02:30:00", "Europe/Paris", "received_at", "does not exist in Europe/Paris"),
        ("2026-03-08T02:30:00", "America/New_York", "received_at", "does not exist"),
        ("2026-11-01T01:30:00", "America/New_York", "received_at", "happens twice"),
        ("2026-04-05T02:30:00", "Australia/Sydney", "received_at", "happens twice"),
        ("2026-11-01T01:30:00+02:00", "America/New_York", "received_at", "is not America"),
        ("2026-07-14T08:00:00", None, "received_at", "needs a UTC offset"),
        ("14/07/2026 08:00", None, "received_at", "not an ISO 8601"),
        ("2026-07-14T08:00:00", "Mars/Olympus_Mons", "time_zone", "unknown IANA time zone"),
        ("2026-11-23T12:00:00Z", None, "received_at", "in the future"),
    ],
)
def test_times_that_name_no_single_past_instant_are_refused(
    stated: str, zone: str | None, field: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        parse(stated, zone)
    assert caught.value.field == field


def test_status_and_lateness_at_an_instant() -> None:
    received = datetime(2026, 7, 14, 8, 0, tzinfo=UTC)
    due = deadlines_for(received, SETTINGS)

    def view(
        now: datetime, *, responded: datetime | None = None, resolved: datetime | None = None
    ) -> DeadlineView:
        return deadline_view(
            first_response_due_at=due.first_response_due_at,
            resolution_due_at=due.resolution_due_at,
            first_response_at=responded,
            resolved_at=resolved,
            now=now,
        )

    fresh = view(received + timedelta(hours=11, minutes=59))
    assert fresh.status is ReportStatus.AWAITING_RESPONSE and not fresh.overdue
    late = view(received + timedelta(hours=12, seconds=1))
    assert late.first_response_overdue and not late.resolution_overdue
    answered = view(received + timedelta(hours=30), responded=received + timedelta(hours=13))
    assert answered.status is ReportStatus.RESPONDED and not answered.overdue
    assert answered.first_response_on_time is False and answered.resolution_on_time is None
    stale = view(received + timedelta(hours=49), responded=received + timedelta(hours=1))
    assert stale.resolution_overdue and stale.first_response_on_time is True
    done = view(
        received + timedelta(days=9),
        responded=received + timedelta(hours=1),
        resolved=received + timedelta(hours=47),
    )
    assert done.status is ReportStatus.RESOLVED and not done.overdue
    assert done.resolution_on_time is True
