"""Certificates and reports: issue input, revocation input, and the public view."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from lotlink.schemas.common import Input
from lotlink.schemas.lots import ClientAuthorization
from lotlink.vocabulary import CertificateKind

Sha256 = str


class CertificateCreate(Input):
    """What is certified (a lot, by key or GTIN and lot code, or an actor), by which document.

    `document` is the SHA-256 of a file uploaded to /api/v1/documents; it is what the chain keeps,
    so anyone holding the file can check it is the certified one.
    """

    lot_key: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{64}$")
    gtin: str | None = None
    lot_code: str | None = None
    actor: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")
    kind: CertificateKind
    document: Sha256 = Field(pattern=r"^(0x)?[0-9a-fA-F]{64}$")
    valid_from: AwareDatetime | None = Field(
        default=None, description="Default: the chain's current time (its newest block)."
    )
    valid_until: AwareDatetime
    authorization: ClientAuthorization | None = Field(
        default=None,
        description="Self-custody issuers sign IssueCertificate; custodial ones are signed.",
    )

    @model_validator(mode="after")
    def _one_subject(self) -> CertificateCreate:
        forms = [self.lot_key is not None, self.gtin is not None or self.lot_code is not None]
        forms.append(self.actor is not None)
        if sum(forms) != 1:
            raise ValueError("name exactly one subject: lot_key, gtin with lot_code, or actor")
        if (self.gtin is None) != (self.lot_code is None):
            raise ValueError("gtin and lot_code go together")
        return self


class CertificateRevoke(Input):
    reason: str = Field(min_length=1, max_length=2000)
    authorization: ClientAuthorization | None = None


class CertificatePublic(BaseModel):
    certificate_id: str
    issuer: str
    subject_kind: str
    subject: str
    kind: str
    document: str
    valid_from: datetime
    valid_until: datetime | None
    validity: str = Field(description="valid, not_yet_valid, expired or revoked, as of now")
    revoked: bool
    revoked_reason: str | None
    block_number: int | None
    tx_hash: str | None
