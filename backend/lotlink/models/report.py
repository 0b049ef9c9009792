"""Problem reports: what consumers tell us about a lot from its scan page."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lotlink.db.base import Base
from lotlink.models.types import Address, Hex32, UtcDateTime, enum_type, utc_now


class ReportCategory(StrEnum):
    """What kind of problem a consumer reports."""

    QUALITY_DEFECT = "quality_defect"
    ILLNESS_OR_INJURY = "illness_or_injury"
    DAMAGED = "damaged"
    SUSPECTED_COUNTERFEIT = "suspected_counterfeit"
    OTHER = "other"


class ProblemReport(Base):
    """One consumer's report about a lot (and maybe one serial of it).

    ``reference`` is what the reporter is given to quote; it is random, so it says nothing about
    how many reports exist. No client address is stored: rate limiting is done in memory.
    The photo, if any, is a stored document (``document.sha256``).

    ``received_at`` is when the complaint reached the first hand: the scan form's arrival, or
    the instant an actor (a retailer's desk, a call centre) forwarding it says it was received,
    with the offset it was stated in. The deadlines are fixed from it when the report is stored,
    so changing the configured hours later does not move a promise already made.
    """

    __tablename__ = "problem_report"
    __table_args__ = (
        Index(None, "lot_key", "created_at"),
        # The overdue list: reports still waiting, by deadline.
        Index(None, "resolved_at", "resolution_due_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    lot_key: Mapped[str] = mapped_column(Hex32, ForeignKey("lot.lot_key"))
    serial: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[ReportCategory] = mapped_column(enum_type(ReportCategory, name="category"))
    description: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(200))
    photo_sha256: Mapped[str | None] = mapped_column(Hex32, ForeignKey("document.sha256"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The UTC offset received_at was stated in ("+02:00"); None for the scan form.
    received_offset: Mapped[str | None] = mapped_column(String(6))
    # The actor that forwarded the complaint through the API; None for the scan form.
    submitted_by: Mapped[str | None] = mapped_column(Address, ForeignKey("actor.address"))
    first_response_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolution_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ResponseKind(StrEnum):
    """What a supplier's answer to a report does: answers it, or closes it as resolved."""

    RESPONSE = "response"
    RESOLUTION = "resolution"


class ReportResponse(Base):
    """A supplier's (or regulator's) answer to a report. Its message is shown to the reporter
    on the public status page, so it must hold nothing private."""

    __tablename__ = "report_response"
    __table_args__ = (Index(None, "report_id", "created_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    report_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("problem_report.id", ondelete="CASCADE"),
    )
    kind: Mapped[ResponseKind] = mapped_column(enum_type(ResponseKind, name="kind"))
    actor_address: Mapped[str] = mapped_column(Address, ForeignKey("actor.address"))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
