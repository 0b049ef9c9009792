"""Problem reports: what consumers tell us about a lot from its scan page."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lotlink.db.base import Base
from lotlink.models.types import Hex32, UtcDateTime, enum_type, utc_now


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
    """

    __tablename__ = "problem_report"
    __table_args__ = (Index(None, "lot_key", "created_at"),)

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
