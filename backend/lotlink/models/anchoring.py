"""Anchoring: the outbox of accepted events, the Merkle batches they go into, the transactions
that anchor them, and the receipt each event gets.

Crash safety rests on these rows, written in this order: an event enters the outbox in the same
transaction that stores it; a batch is stored with its root and members before its transaction
is sent; every transaction sent for a batch (first try and replacements, one nonce) is stored
before it is broadcast; receipts are stored with the batch marked anchored. A restarted
anchorer therefore knows which events are unbatched, which batches are unsent, and which
transaction hashes to look for on chain.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotlink.db.base import Base
from lotlink.models.types import Address, Hex32, UtcDateTime, enum_type, utc_now

if TYPE_CHECKING:
    from lotlink.models.checkpoint import Checkpoint


class BatchStatus(StrEnum):
    """A batch's progress to the chain."""

    BUILT = "built"  # root and members stored; no transaction sent yet
    SENT = "sent"  # a transaction was broadcast; waiting for its receipt
    ANCHORED = "anchored"  # mined; receipts stored
    FAILED = "failed"  # given up on; its events return to the outbox


class ManifestStatus(StrEnum):
    """Whether the batch's manifest was fetched, matched the anchored manifest hash, and its
    events checked out. Only VERIFIED batches give their events as anchored; PENDING,
    UNAVAILABLE and MISMATCH are retried (the right bytes may turn up), INVALID is final."""

    PENDING = "pending"  # not resolved yet, or waiting for events an earlier batch gives
    VERIFIED = "verified"
    UNAVAILABLE = "unavailable"  # could not be fetched (local store, then manifest_uri)
    MISMATCH = "mismatch"  # fetched, but its hash differs from the chain's
    INVALID = "invalid"  # the anchored bytes themselves fail: form, root, an event's checks

    @property
    def retried(self) -> bool:
        return self in (ManifestStatus.PENDING, ManifestStatus.UNAVAILABLE, ManifestStatus.MISMATCH)


class OutboxState(StrEnum):
    """An outbox entry's progress."""

    QUEUED = "queued"
    BATCHED = "batched"
    ANCHORED = "anchored"


class Batch(Base):
    """A Merkle batch of events, keyed by its root (the BatchAnchored ``root``).

    Batches anchored by another anchorer are created by the indexer from the log alone
    (``manifest_status`` then tells whether their events could be read).
    """

    __tablename__ = "batch"
    __table_args__ = (
        CheckConstraint("event_count > 0", name="event_count_positive"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index(None, "status"),
        Index(None, "block_number"),
        Index(None, "manifest_status", "manifest_retry_at"),
    )

    root: Mapped[str] = mapped_column(Hex32, primary_key=True)
    manifest_hash: Mapped[str] = mapped_column(Hex32)
    manifest_uri: Mapped[str | None] = mapped_column(String)
    manifest_status: Mapped[ManifestStatus] = mapped_column(
        enum_type(ManifestStatus, name="manifest_status"), default=ManifestStatus.PENDING
    )
    # Why the manifest is not VERIFIED (one line), how often the indexer tried it, and when it
    # tries next (backing off); all NULL/0 once it is verified.
    manifest_error: Mapped[str | None] = mapped_column(String(1000))
    manifest_attempts: Mapped[int] = mapped_column(Integer, default=0)
    manifest_retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    event_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[BatchStatus] = mapped_column(
        enum_type(BatchStatus, name="status"), default=BatchStatus.BUILT
    )
    anchorer_address: Mapped[str | None] = mapped_column(Address)
    # The transaction that was mined (or, while SENT, the latest one sent) and its nonce.
    tx_hash: Mapped[str | None] = mapped_column(Hex32)
    tx_nonce: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    log_index: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    anchored_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    transactions: Mapped[list[AnchorTransaction]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", passive_deletes=True
    )
    stored_manifest: Mapped[BatchManifest | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def manifest(self) -> str | None:
        """The manifest's exact text (see `BatchManifest`); None for a batch the indexer learnt
        from the chain alone and whose manifest it has not verified."""
        return None if self.stored_manifest is None else self.stored_manifest.content


class BatchManifest(Base):
    """A batch's manifest: the exact bytes (UTF-8 canonical JSON) whose keccak256 is the batch's
    ``manifest_hash``, stored with the batch before its transaction is sent.

    A row of its own rather than a column of ``batch``: the batch row changes as the batch is
    sent, anchored and indexed, and SQLite rewrites a whole row (with the megabyte a thousand
    events' manifest takes) for any change to it, in the write transaction every capture
    waits for and in the log it then copies back into the database."""

    __tablename__ = "batch_manifest"

    root: Mapped[str] = mapped_column(
        Hex32, ForeignKey("batch.root", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[str] = mapped_column(Text)


class AnchorTransaction(Base):
    """One transaction broadcast to anchor a batch. Replacements share the nonce; whichever is
    mined wins, so all of them are kept until one is."""

    __tablename__ = "anchor_transaction"
    __table_args__ = (Index(None, "batch_root"), Index(None, "nonce"))

    tx_hash: Mapped[str] = mapped_column(Hex32, primary_key=True)
    batch_root: Mapped[str] = mapped_column(Hex32, ForeignKey("batch.root", ondelete="CASCADE"))
    nonce: Mapped[int] = mapped_column(BigInteger)
    # Wei per gas; NULL for a legacy-priced transaction.
    max_fee_per_gas: Mapped[int | None] = mapped_column(BigInteger)
    max_priority_fee_per_gas: Mapped[int | None] = mapped_column(BigInteger)
    gas_limit: Mapped[int | None] = mapped_column(BigInteger)
    # The signed transaction as 0x-hex, stored before it is broadcast: a restarted anchorer
    # rebroadcasts these very bytes (same hash, same nonce) instead of guessing.
    raw_transaction: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    batch: Mapped[Batch] = relationship(back_populates="transactions")


class OutboxEntry(Base):
    """An accepted event waiting to be anchored. The event digest is the idempotency key: the
    same event submitted twice is one entry. ``id`` gives first-in, first-out order."""

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "state", "id"), Index(None, "batch_root"))

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_digest: Mapped[str] = mapped_column(
        Hex32, ForeignKey("checkpoint.digest", ondelete="CASCADE"), unique=True
    )
    enqueued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    batch_root: Mapped[str | None] = mapped_column(Hex32, ForeignKey("batch.root"))
    state: Mapped[OutboxState] = mapped_column(
        enum_type(OutboxState, name="state"), default=OutboxState.QUEUED
    )

    checkpoint: Mapped[Checkpoint] = relationship()
    batch: Mapped[Batch | None] = relationship()


class AnchorReceipt(Base):
    """Proof that one event is anchored: its leaf, its Merkle path to ``root``, and where the
    root landed on chain.

    For a batched event, ``batch_root`` names the batch and ``tx_hash``/``log_index`` its
    BatchAnchored log. For an event recorded directly there is no batch: ``root`` equals
    ``leaf``, ``proof`` is empty, and ``tx_hash``/``log_index`` are its CheckpointRecorded log.
    """

    __tablename__ = "anchor_receipt"
    __table_args__ = (Index(None, "root"), Index(None, "batch_root"))

    event_digest: Mapped[str] = mapped_column(
        Hex32, ForeignKey("checkpoint.digest", ondelete="CASCADE"), primary_key=True
    )
    leaf: Mapped[str] = mapped_column(Hex32)
    # The sibling hashes from leaf to root, as a JSON list of 0x-hex strings.
    proof: Mapped[list[str]] = mapped_column(JSON)
    root: Mapped[str] = mapped_column(Hex32)
    batch_root: Mapped[str | None] = mapped_column(Hex32, ForeignKey("batch.root"))
    tx_hash: Mapped[str] = mapped_column(Hex32)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str | None] = mapped_column(Hex32)
    log_index: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    checkpoint: Mapped[Checkpoint] = relationship(back_populates="receipt")
    batch: Mapped[Batch | None] = relationship()

    def as_dict(self) -> dict[str, Any]:
        """The receipt's chain facts, as the receipt endpoint and evidence bundles spell them."""
        return {
            "leaf": self.leaf,
            "proof": list(self.proof),
            "root": self.root,
            "transactionHash": self.tx_hash,
            "blockNumber": self.block_number,
            "blockHash": self.block_hash,
            "logIndex": self.log_index,
        }
