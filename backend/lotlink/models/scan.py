"""Scans of serialised codes and the serials they show to be copies.

A scan keeps when a serialised Digital Link (``/01/…/10/…/21/…``) was opened and, when the
client told us, roughly where: latitude and longitude rounded to a tenth of a degree (about
11 km), stored as whole tenths. Nothing else about the client is kept, no address, no agent,
no cookie: a scan cannot be tied to a person. Lot-level links are not recorded at all, since a
lot's code is printed on every pack and proves nothing about one unit.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lotlink.db.base import Base
from lotlink.models.types import Hex32, UtcDateTime, enum_type, utc_now


class SerialScan(Base):
    """One opening of a serial's scan page, with its coarse place when one was given."""

    __tablename__ = "serial_scan"
    __table_args__ = (
        CheckConstraint("lat_tenths BETWEEN -900 AND 900", name="lat_range"),
        CheckConstraint("lon_tenths BETWEEN -1800 AND 1800", name="lon_range"),
        CheckConstraint("(lat_tenths IS NULL) = (lon_tenths IS NULL)", name="place_whole"),
        Index(None, "lot_key", "serial", "scanned_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    lot_key: Mapped[str] = mapped_column(Hex32, ForeignKey("lot.lot_key"))
    serial: Mapped[str] = mapped_column(String(20))
    scanned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Degrees times ten, rounded: 48.9 is 489. NULL when the client gave no place.
    lat_tenths: Mapped[int | None] = mapped_column(SmallInteger)
    lon_tenths: Mapped[int | None] = mapped_column(SmallInteger)


class CopyRule(StrEnum):
    """Why a serial looks copied."""

    IMPOSSIBLE_TRAVEL = "impossible_travel"  # two places too far apart for the time between
    SCAN_RATE = "scan_rate"  # more scans in a window than one pack ever gets
    NOT_COMMISSIONED = "not_commissioned"  # the lot records its serials, and not this one


class CopyFlag(Base):
    """Serial ``serial`` of lot ``lot_key`` may be a copy, by ``rule``; one row per rule.

    ``reason`` is the plain-words evidence (places, times, speed or counts) shown to the
    supplier; ``detected_at`` is when the rule first fired.
    """

    __tablename__ = "copy_flag"
    __table_args__ = (UniqueConstraint("lot_key", "serial", "rule"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    lot_key: Mapped[str] = mapped_column(Hex32, ForeignKey("lot.lot_key"))
    serial: Mapped[str] = mapped_column(String(20))
    rule: Mapped[CopyRule] = mapped_column(enum_type(CopyRule, name="rule"))
    reason: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
