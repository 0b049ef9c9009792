"""Alerts: a quality signal about a lot, a product or a supplier, raised by a rule, and the people
who must act on it (the supplier concerned and regulators) working it from open to closed.

One table serves every rule (complaint rates and bursts, certificates, copied codes): ``kind``
groups the rules of one feature, ``rule`` names the test that fired, ``p_value`` and
``statistic`` hold its figures and ``reason`` says it in one sentence. ``kind`` and ``rule`` are
plain text, not a CHECK-constrained enum, so a feature can add rules without a table rebuild.

``fingerprint`` says what an alert is about (rule and subject): at most one alert per
fingerprint is not yet closed (a partial unique index), so a rule that fires again updates the
alert it already raised instead of opening another.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from lotlink.db.base import Base
from lotlink.models.types import Address, Hex32, UtcDateTime, enum_type, utc_now


class AlertState(StrEnum):
    """Where an alert is in its life: raised, seen, turned into a recall, or done with."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    CLOSED = "closed"


class Alert(Base):
    """One alert. ``lot_key``, ``gtin`` and ``supplier_address`` say what it concerns (any may be
    empty: a supplier-wide alert names no lot); the supplier and every regulator may see it.

    ``recall_id`` is the recall an escalation issued. It has no foreign key: recall rows come
    from the chain's index, which a reorg may roll back and rebuild.
    """

    __tablename__ = "alert"
    __table_args__ = (
        CheckConstraint(
            "state <> 'escalated' OR escalated_at IS NOT NULL", name="escalated_has_time"
        ),
        CheckConstraint("(state = 'closed') = (closed_at IS NOT NULL)", name="closed_iff_time"),
        Index(
            "uq_alert_fingerprint_not_closed",
            "fingerprint",
            unique=True,
            sqlite_where=text("state <> 'closed'"),
            postgresql_where=text("state <> 'closed'"),
        ),
        Index(None, "state", "opened_at"),
        Index(None, "lot_key"),
        Index(None, "supplier_address"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(200))
    lot_key: Mapped[str | None] = mapped_column(Hex32, ForeignKey("lot.lot_key"))
    gtin: Mapped[str | None] = mapped_column(String(14))
    supplier_address: Mapped[str | None] = mapped_column(Address, ForeignKey("actor.address"))
    # The test's p-value, when the rule is a statistical test; otherwise `reason` says why.
    p_value: Mapped[float | None] = mapped_column(Float)
    # The figures behind the alert (observed, expected, units, window...), as the rule computed.
    statistic: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[AlertState] = mapped_column(
        enum_type(AlertState, name="state"), default=AlertState.OPEN
    )
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # When the rule last re-evaluated the alert with new figures.
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(Address)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    escalated_by: Mapped[str | None] = mapped_column(Address)
    recall_id: Mapped[int | None] = mapped_column(BigInteger)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_by: Mapped[str | None] = mapped_column(Address)
    close_note: Mapped[str | None] = mapped_column(Text)
