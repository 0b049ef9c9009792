"""Documents: certificates, reports and photos, stored content-addressed by SHA-256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lotlink.db.base import Base
from lotlink.models.types import Address, Hex32, UtcDateTime, utc_now


class Document(Base):
    """One stored file. Its key is its SHA-256 (the hash certificates and events cite), so the
    same bytes uploaded twice are one row and one blob; the bytes live under ``var/blobs``."""

    __tablename__ = "document"
    __table_args__ = (CheckConstraint("size_bytes >= 0", name="size_not_negative"),)

    sha256: Mapped[str] = mapped_column(Hex32, primary_key=True)
    media_type: Mapped[str] = mapped_column(String(127))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    original_filename: Mapped[str | None] = mapped_column(String(255))
    uploaded_by: Mapped[str | None] = mapped_column(Address, ForeignKey("actor.address"))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
