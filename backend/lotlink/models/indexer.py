"""The indexer's own state: its cursor, the block hashes of the unconfirmed window, and the
ledger of logs it has applied."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lotlink.db.base import Base
from lotlink.models.types import Address, Hex32, UtcDateTime, utc_now


class IndexerCursor(Base):
    """How far follower ``name`` has applied the chain: the last block, by number and hash.

    Written in the same transaction as the logs of each range, so the index and the cursor can
    never disagree after a crash.
    """

    __tablename__ = "indexer_cursor"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(Hex32)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)


class IndexedBlock(Base):
    """A block of the unconfirmed window. Unfinalized blocks link by parent hash: when the chain's
    block at ``number`` no longer has ``hash``, the follower walks back to the newest kept block
    that still matches (the common ancestor) and rolls back everything above it."""

    __tablename__ = "indexed_block"

    cursor_name: Mapped[str] = mapped_column(
        String(64), ForeignKey("indexer_cursor.name", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[str] = mapped_column(Hex32)
    parent_hash: Mapped[str] = mapped_column(Hex32)


class AppliedLog(Base):
    """A contract log that has been applied to the index. Its key, (transaction hash, log index),
    makes applying the same log twice impossible; ``block_number`` finds what a rollback undoes."""

    __tablename__ = "applied_log"
    __table_args__ = (Index(None, "block_number", "log_index"),)

    tx_hash: Mapped[str] = mapped_column(Hex32, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(Hex32)
    contract_address: Mapped[str] = mapped_column(Address)
    # The event's name ("LotRegistered"); its topic0 is implied by the ABI.
    event_name: Mapped[str] = mapped_column(String(64))
