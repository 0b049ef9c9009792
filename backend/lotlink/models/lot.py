"""Lots and their lineage: which lots each lot was made from, and how much of each it consumed."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotlink.db.base import Base
from lotlink.models.provenance import ChainProvenance
from lotlink.models.types import Address, Hex32, UtcDateTime, utc_now

if TYPE_CHECKING:
    from lotlink.models.actor import Actor


class Lot(ChainProvenance, Base):
    """A lot, keyed by its lot key: ``keccak256("01" ‖ GTIN-14 ‖ "10" ‖ lot code)``.

    Natural keys are used throughout the chain-derived tables: every row is named on chain by
    the same key, so the indexer writes without lookups, and a rebuilt index equals the live one
    row by row (surrogate ids would depend on insertion order).

    Quantities are integers in thousandths of ``unit`` (a UN/ECE Recommendation 20 code), as on
    chain. BIGINT holds 9.2e15 units at that precision; a larger on-chain value cannot be stored.
    ``unit`` has no length limit because the contracts do not bound it.
    """

    __tablename__ = "lot"
    __table_args__ = (
        CheckConstraint("quantity_milli >= 0", name="quantity_not_negative"),
        Index(None, "gtin", "lot_code", unique=True),
        Index(None, "owner_address"),
    )

    lot_key: Mapped[str] = mapped_column(Hex32, primary_key=True)
    gtin: Mapped[str] = mapped_column(String(14))
    lot_code: Mapped[str] = mapped_column(String(20))
    # Off chain: the chain only holds details_hash, the hash of the lot's details document.
    product_name: Mapped[str | None] = mapped_column(String(200))
    quantity_milli: Mapped[int] = mapped_column(BigInteger)
    unit: Mapped[str] = mapped_column(String)
    owner_address: Mapped[str] = mapped_column(Address, ForeignKey("actor.address"))
    details_hash: Mapped[str | None] = mapped_column(Hex32)
    # The latest event of this lot's hash chain; writers advance it with compare-and-set.
    head_digest: Mapped[str | None] = mapped_column(Hex32)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    owner: Mapped[Actor] = relationship()
    parent_edges: Mapped[list[LineageEdge]] = relationship(
        foreign_keys="LineageEdge.child_key",
        back_populates="child",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class LineageEdge(Base):
    """``child`` was made from ``parent``, consuming ``quantity_milli`` thousandths of ``unit``.

    Edges come with their child's LotRegistered log, so they need no provenance of their own;
    they are deleted with the child. The index on ``parent_key`` serves downstream traces, the
    primary key upstream ones.
    """

    __tablename__ = "lineage_edge"
    __table_args__ = (
        CheckConstraint("child_key <> parent_key", name="not_self"),
        CheckConstraint("quantity_milli >= 0", name="quantity_not_negative"),
        Index(None, "parent_key"),
    )

    child_key: Mapped[str] = mapped_column(
        Hex32, ForeignKey("lot.lot_key", ondelete="CASCADE"), primary_key=True
    )
    parent_key: Mapped[str] = mapped_column(
        Hex32, ForeignKey("lot.lot_key", ondelete="RESTRICT"), primary_key=True
    )
    quantity_milli: Mapped[int] = mapped_column(BigInteger)
    # The parent's unit, copied so mass balance needs no join.
    unit: Mapped[str] = mapped_column(String)

    child: Mapped[Lot] = relationship(foreign_keys=[child_key], back_populates="parent_edges")
    parent: Mapped[Lot] = relationship(foreign_keys=[parent_key])
