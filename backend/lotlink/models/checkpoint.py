"""Checkpoints: EPCIS 2.0 events, the lots each one touches, and the documents it cites.

Each lot's events form a hash chain: every event carries, inside what is hashed and signed, the
digest of the previous event of each lot it touches. ``checkpoint_lot`` stores those links, and
its constraints make the chain a chain: a lot has at most one first event, each event has at
most one successor per lot, and a link can only point at an event of the same lot.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotlink.db.base import Base
from lotlink.models.types import (
    Address,
    Hex32,
    HexBlob,
    UtcDateTime,
    enum_type,
    utc_now,
)
from lotlink.vocabulary import CheckpointKind

if TYPE_CHECKING:
    from lotlink.models.actor import Actor
    from lotlink.models.anchoring import AnchorReceipt
    from lotlink.models.lot import Lot


class CheckpointStatus(StrEnum):
    """Where an accepted event is on its way to the chain."""

    PENDING = "pending"  # stored and queued in the outbox, not yet anchored
    ANCHORED = "anchored"  # its digest is on chain (directly or under a batch root)
    FAILED = "failed"  # the chain refused it for good (e.g. the signer lost its role)


class Checkpoint(Base):
    """One EPCIS 2.0 event, keyed by its digest: the CBV 2.0 event hash, as anchored on chain.

    ``epcis_json`` is the canonical JSON exactly as hashed and signed, kept as text rather than
    a JSON type so that no database can reorder or reformat it. The other columns are copies of
    its fields, for filtering; the JSON stays the source of truth and verification re-hashes it.
    """

    __tablename__ = "checkpoint"
    __table_args__ = (
        CheckConstraint(
            "event_time_offset LIKE '+__:__' OR event_time_offset LIKE '-__:__'",
            name="event_time_offset_format",
        ),
        Index(None, "primary_lot_key", "event_time"),
        Index(None, "signer_address"),
        Index(None, "event_time"),
        Index(None, "location_gln"),
        Index(None, "status"),
    )

    digest: Mapped[str] = mapped_column(Hex32, primary_key=True)
    # The EPCIS eventID, an ni:/// URI built from the same hash.
    event_id: Mapped[str] = mapped_column(String(200), unique=True)
    epcis_json: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(String(32))
    kind: Mapped[CheckpointKind] = mapped_column(enum_type(CheckpointKind, name="kind"))
    biz_step: Mapped[str | None] = mapped_column(String(200))
    disposition: Mapped[str | None] = mapped_column(String(200))
    event_time: Mapped[datetime] = mapped_column(UtcDateTime)
    # The offset the event was stated in ("+02:00"); EPCIS requires it and pages show local time.
    event_time_offset: Mapped[str] = mapped_column(String(6))
    record_time: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    read_point: Mapped[str | None] = mapped_column(String(200))
    biz_location: Mapped[str | None] = mapped_column(String(200))
    # The 13-digit GLN behind biz_location (or read_point), for "what happened here" queries.
    location_gln: Mapped[str | None] = mapped_column(String(13))
    source_party: Mapped[str | None] = mapped_column(String(200))
    destination_party: Mapped[str | None] = mapped_column(String(200))
    primary_lot_key: Mapped[str] = mapped_column(Hex32, ForeignKey("lot.lot_key"))
    signer_address: Mapped[str] = mapped_column(Address, ForeignKey("actor.address"))
    # The signer's EIP-712 signature over the event's digest (65 bytes).
    signature: Mapped[str] = mapped_column(HexBlob)
    status: Mapped[CheckpointStatus] = mapped_column(
        enum_type(CheckpointStatus, name="status"), default=CheckpointStatus.PENDING
    )

    primary_lot: Mapped[Lot] = relationship()
    signer: Mapped[Actor] = relationship()
    lots: Mapped[list[CheckpointLot]] = relationship(
        back_populates="checkpoint", cascade="all, delete-orphan", passive_deletes=True
    )
    documents: Mapped[list[CheckpointDocument]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    receipt: Mapped[AnchorReceipt | None] = relationship(
        back_populates="checkpoint", passive_deletes=True
    )


class CheckpointLot(Base):
    """Event ``checkpoint_digest`` touches lot ``lot_key``, whose previous event is ``prev_digest``.

    ``prev_digest`` is NULL for a lot's first event. The composite foreign key makes the link
    point at an event of the same lot; the unique constraint gives each event one successor per
    lot; the partial unique index gives each lot one first event.
    """

    __tablename__ = "checkpoint_lot"
    __table_args__ = (
        ForeignKeyConstraint(
            ["lot_key", "prev_digest"],
            ["checkpoint_lot.lot_key", "checkpoint_lot.checkpoint_digest"],
            name="fk_checkpoint_lot_prev_checkpoint_lot",
        ),
        UniqueConstraint("lot_key", "prev_digest"),
        Index(
            "uq_checkpoint_lot_lot_key_first",
            "lot_key",
            unique=True,
            sqlite_where=text("prev_digest IS NULL"),
            postgresql_where=text("prev_digest IS NULL"),
        ),
        CheckConstraint("quantity_milli >= 0", name="quantity_not_negative"),
        Index(None, "checkpoint_digest"),
    )

    lot_key: Mapped[str] = mapped_column(Hex32, ForeignKey("lot.lot_key"), primary_key=True)
    checkpoint_digest: Mapped[str] = mapped_column(
        Hex32, ForeignKey("checkpoint.digest", ondelete="CASCADE"), primary_key=True
    )
    prev_digest: Mapped[str | None] = mapped_column(Hex32)
    # This lot's quantity in the event (EPCIS quantityList), in thousandths of ``unit``.
    quantity_milli: Mapped[int | None] = mapped_column(BigInteger)
    unit: Mapped[str | None] = mapped_column(String)

    checkpoint: Mapped[Checkpoint] = relationship(back_populates="lots")
    lot: Mapped[Lot] = relationship()


class CheckpointDocument(Base):
    """Event ``checkpoint_digest`` cites the document whose SHA-256 is ``document_sha256``.

    No foreign key to ``document``: an index rebuilt from the chain and manifests knows the
    citation before (or without) the file itself.
    """

    __tablename__ = "checkpoint_document"
    __table_args__ = (Index(None, "document_sha256"),)

    checkpoint_digest: Mapped[str] = mapped_column(
        Hex32, ForeignKey("checkpoint.digest", ondelete="CASCADE"), primary_key=True
    )
    document_sha256: Mapped[str] = mapped_column(Hex32, primary_key=True)
