"""Certificates and reports (ISO 9001, production licences, inspection reports, CoAs) about an
actor or a lot, issued and revoked on chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from lotlink.db.base import Base
from lotlink.models.provenance import ChainProvenance
from lotlink.models.types import Address, Hex32, UtcDateTime, enum_type
from lotlink.vocabulary import CertificateKind, SubjectKind


class Certificate(ChainProvenance, Base):
    """A certificate from a CertificateIssued log; revocation fields from CertificateRevoked.

    ``subject`` is the bytes32 the chain holds: a lot key, or an actor's address left-padded to
    32 bytes. No foreign key on it or on ``document_hash``: the chain may name a subject or a
    file this index does not hold (yet), and the index must still equal the chain.
    ``valid_until`` is NULL when the certificate has no end (the chain's 0, or an instant past
    year 9999).
    """

    __tablename__ = "certificate"
    __table_args__ = (
        Index(None, "subject_kind", "subject"),
        Index(None, "issuer_address"),
        Index(None, "document_hash"),
        Index(None, "valid_until"),
    )

    certificate_id: Mapped[str] = mapped_column(Hex32, primary_key=True)
    issuer_address: Mapped[str] = mapped_column(Address)
    subject_kind: Mapped[SubjectKind] = mapped_column(enum_type(SubjectKind, name="subject_kind"))
    subject: Mapped[str] = mapped_column(Hex32)
    kind: Mapped[CertificateKind] = mapped_column(enum_type(CertificateKind, name="kind"))
    document_hash: Mapped[str] = mapped_column(Hex32)
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_by: Mapped[str | None] = mapped_column(Address)
    revoked_reason_hash: Mapped[str | None] = mapped_column(Hex32)
    # Off chain: the words behind revoked_reason_hash, when the revoker gave them to us.
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_block: Mapped[int | None] = mapped_column(BigInteger)
    revoked_tx_hash: Mapped[str | None] = mapped_column(Hex32)
    # The revoking block's time: whether a certificate was revoked *at* an instant (a shipment's
    # time, a scorecard's past month) needs it. NULL for a revocation indexed without a time.
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
