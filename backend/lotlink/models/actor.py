"""Actors (suppliers, inspectors, carriers, certifiers, regulators, anchorer) and their roles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotlink.db.base import Base
from lotlink.models.provenance import ChainProvenance
from lotlink.models.types import Address, Hex32, UtcDateTime, enum_type, utc_now
from lotlink.vocabulary import Role

if TYPE_CHECKING:
    from lotlink.models.api_token import ApiToken


class Custody(StrEnum):
    """Who holds the actor's key: this service (an encrypted keystore) or the actor alone."""

    CUSTODIAL = "custodial"
    SELF = "self"


class Actor(Base):
    """An Ethereum account known to Lotlink, keyed by its address.

    An actor indexed from the chain without a local record is ``self`` custody: this service
    holds no key for it.
    """

    __tablename__ = "actor"
    __table_args__ = (
        CheckConstraint(
            "(custody = 'custodial') = (keystore_path IS NOT NULL)", name="keystore_iff_custodial"
        ),
        Index(None, "gln"),
    )

    address: Mapped[str] = mapped_column(Address, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # GS1 Global Location Number, 13 digits; the contracts carry it as a uint64 (0 = none).
    gln: Mapped[str | None] = mapped_column(String(13))
    profile_hash: Mapped[str | None] = mapped_column(Hex32)
    custody: Mapped[Custody] = mapped_column(
        enum_type(Custody, name="custody"), default=Custody.SELF
    )
    keystore_path: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # The chain's last word on gln/profile_hash (ActorProfileUpdated), for reorg rollback.
    profile_block: Mapped[int | None] = mapped_column(BigInteger)

    roles: Mapped[list[ActorRole]] = relationship(
        back_populates="actor", cascade="all, delete-orphan", passive_deletes=True
    )
    api_tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="actor", cascade="all, delete-orphan", passive_deletes=True
    )


class ActorRole(ChainProvenance, Base):
    """One role held by an actor, from an ActorRegistered log (or pending, before it is mined)."""

    __tablename__ = "actor_role"
    __table_args__ = (Index(None, "role"),)

    actor_address: Mapped[str] = mapped_column(
        Address, ForeignKey("actor.address", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(enum_type(Role, name="role"), primary_key=True)

    actor: Mapped[Actor] = relationship(back_populates="roles")
