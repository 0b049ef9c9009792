"""API tokens: bearer secrets that act for one actor, stored only as hashes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotlink.db.base import Base
from lotlink.models.types import Address, UtcDateTime, utc_now

if TYPE_CHECKING:
    from lotlink.models.actor import Actor


class ApiToken(Base):
    """A revocable token for one actor. Only the SHA-256 of the secret is kept.

    The secret has enough entropy that a fast unsalted hash is safe and lets a request find its
    token with one indexed lookup; ``prefix`` (the first characters of the secret) lets an
    admin tell tokens apart without ever seeing one again.
    """

    __tablename__ = "api_token"
    __table_args__ = (Index(None, "actor_address"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    actor_address: Mapped[str] = mapped_column(
        Address, ForeignKey("actor.address", ondelete="CASCADE")
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    actor: Mapped[Actor] = relationship(back_populates="api_tokens")
