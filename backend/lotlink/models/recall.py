"""Recalls (class I, II or III; active or closed) and the lots each one covers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from eth_utils import keccak
from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotlink.db.base import Base
from lotlink.models.provenance import ChainProvenance
from lotlink.models.types import Address, Hex32, UtcDateTime, enum_type

if TYPE_CHECKING:
    from lotlink.models.lot import Lot


def closing_hash(reason: str) -> str:
    """What the chain keeps for the words a recall is closed with (``closed_reason_hash``):
    keccak-256 of their UTF-8 bytes, as 0x hex. Anyone holding the words can recompute it."""
    return "0x" + keccak(reason.encode("utf-8")).hex()


class RecallStatus(StrEnum):
    """A recall's life cycle, as on chain (where ``None`` means no such recall)."""

    ACTIVE = "active"
    CLOSED = "closed"


class Recall(ChainProvenance, Base):
    """A recall from a RecallIssued log, kept current by RecallUpdated and RecallClosed.

    ``recall_class`` is the chain's 1, 2 or 3 (class I is the most severe, so it sorts first).
    ``recall_id`` is the contract's counter, from 1; BIGINT is far beyond any real count.
    The ``*_block`` columns let a reorg rollback tell which changes to undo.
    """

    __tablename__ = "recall"
    __table_args__ = (
        CheckConstraint("recall_class BETWEEN 1 AND 3", name="recall_class_range"),
        CheckConstraint(
            "(status = 'closed') = (closed_at IS NOT NULL)", name="closed_iff_closed_at"
        ),
        Index(None, "status", "issued_at"),
        Index(None, "issuer_address"),
    )

    recall_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    issuer_address: Mapped[str] = mapped_column(Address)
    recall_class: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[RecallStatus] = mapped_column(
        enum_type(RecallStatus, name="status"), default=RecallStatus.ACTIVE
    )
    reason_hash: Mapped[str] = mapped_column(Hex32)
    # Off chain: the reason and instructions whose hash the chain holds.
    reason: Mapped[str | None] = mapped_column(Text)
    instructions_consumer: Mapped[str | None] = mapped_column(Text)
    instructions_trade: Mapped[str | None] = mapped_column(Text)
    voluntary: Mapped[bool] = mapped_column(Boolean)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str | None] = mapped_column(Address)
    updated_block: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_by: Mapped[str | None] = mapped_column(Address)
    closed_reason_hash: Mapped[str | None] = mapped_column(Hex32)
    # Off chain: the words behind closed_reason_hash, when the closer gave them to this service.
    # A reorg that undoes the closure keeps them, so a replayed closure with the same hash
    # finds them again; the indexer drops words that do not hash to the closure it applies.
    closed_reason: Mapped[str | None] = mapped_column(Text)
    closed_block: Mapped[int | None] = mapped_column(BigInteger)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    lots: Mapped[list[RecallLot]] = relationship(
        back_populates="recall", cascade="all, delete-orphan", passive_deletes=True
    )


class RecallLot(ChainProvenance, Base):
    """Recall ``recall_id`` covers lot ``lot_key`` (a LotRecalled log). Lots derived from it are
    affected through lineage, not listed here."""

    __tablename__ = "recall_lot"
    __table_args__ = (Index(None, "lot_key"),)

    recall_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("recall.recall_id", ondelete="CASCADE"), primary_key=True
    )
    lot_key: Mapped[str] = mapped_column(Hex32, ForeignKey("lot.lot_key"), primary_key=True)

    recall: Mapped[Recall] = relationship(back_populates="lots")
    lot: Mapped[Lot] = relationship()
