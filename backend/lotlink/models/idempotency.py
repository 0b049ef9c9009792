"""Idempotency keys: what an actor's ``Idempotency-Key`` header on a checkpoint produced.

A key is written in the transaction that stores its event, so it exists exactly when the event
does; its primary key (actor, key) lets one request with a key win and keeps different actors'
keys apart. Keys older than the retention (``LOTLINK_IDEMPOTENCY_KEY_HOURS``) are ignored and
deleted by the periodic rounds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lotlink.db.base import Base
from lotlink.models.types import Address, Hex32, UtcDateTime, utc_now


class IdempotencyKey(Base):
    """One actor's key, the fingerprint of the request it came with (SHA-256 over the lot and
    the validated form), and the checkpoint that request was answered with."""

    __tablename__ = "idempotency_key"
    __table_args__ = (Index(None, "created_at"),)

    actor_address: Mapped[str] = mapped_column(
        Address, ForeignKey("actor.address", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(Hex32)
    checkpoint_digest: Mapped[str] = mapped_column(
        Hex32, ForeignKey("checkpoint.digest", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
