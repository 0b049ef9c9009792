"""Webhooks: each actor's endpoints, and the durable outbox of messages to deliver to them.

Messages are signed with the Standard Webhooks scheme (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``). The signing secret is kept as given to the actor: the service must hold
it to sign, so it cannot be hashed like an API token; an actor replaces a leaked one by
registering the endpoint again.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotlink.db.base import Base
from lotlink.models.types import Address, UtcDateTime, enum_type, utc_now


class DeliveryState(StrEnum):
    """A message's way to one endpoint: waiting (or retrying), accepted, or given up on."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookEndpoint(Base):
    """An HTTPS (or local HTTP) URL where an actor wants its alerts, with the secret that signs
    them (``whsec_`` and base64, as Standard Webhooks writes it). ``disabled_at`` set: no new
    messages are queued for it."""

    __tablename__ = "webhook_endpoint"
    __table_args__ = (Index(None, "actor_address", "url", unique=True),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    actor_address: Mapped[str] = mapped_column(
        Address, ForeignKey("actor.address", ondelete="CASCADE")
    )
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebhookDelivery(Base):
    """One message queued for one endpoint. ``body`` is the exact bytes that are signed and sent;
    ``message_id`` is the same on every retry (and for every endpoint the event goes to), so a
    receiver can drop duplicates. ``next_attempt_at`` orders the work: retries back off."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index(None, "endpoint_id", "message_id", unique=True),
        Index(None, "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    endpoint_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE"),
    )
    message_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[DeliveryState] = mapped_column(
        enum_type(DeliveryState, name="state"), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The endpoint's last HTTP status, or None when it could not be reached.
    last_status: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    endpoint: Mapped[WebhookEndpoint] = relationship()
