"""Recalls: issue, update and close inputs, lookups, and the public view."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field, model_validator

from lotlink.schemas.common import Input
from lotlink.schemas.lots import ClientAuthorization


class RecalledLot(Input):
    """A lot named by its key, or by GTIN and lot code."""

    lot_key: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{64}$")
    gtin: str | None = None
    lot_code: str | None = None

    @model_validator(mode="after")
    def _one_form(self) -> RecalledLot:
        if (self.lot_key is None) == (self.gtin is None or self.lot_code is None):
            raise ValueError("name the lot by lot_key, or by gtin and lot_code")
        return self


class RecallWording(Input):
    """What the recall says; its hash (see `reason_hash`) is what the chain keeps."""

    recall_class: int = Field(ge=1, le=3, description="1 (most serious), 2 or 3.")
    reason: str = Field(min_length=1, max_length=4000)
    consumer_instructions: str = Field(default="", max_length=4000)
    trade_instructions: str = Field(default="", max_length=4000)


class RecallCreate(RecallWording):
    lots: list[RecalledLot] = Field(min_length=1, max_length=256)
    authorization: ClientAuthorization | None = None


class RecallUpdate(RecallWording):
    authorization: ClientAuthorization | None = None


class RecallClose(Input):
    reason: str = Field(min_length=1, max_length=4000)
    authorization: ClientAuthorization | None = None


class RecallLookup(Input):
    """`GET /api/v1/recalls` query parameters; `recall_filter` checks the GS1 keys and dates."""

    gtin: str | None = Field(
        default=None, description="Recalls reaching lots of this GTIN (8, 12, 13 or 14 digits)."
    )
    lot_code: str | None = Field(default=None, description="With gtin: this one lot.")
    gln: str | None = Field(
        default=None,
        description="Recalls reaching lots owned by, recorded at or shipped to this GLN.",
    )
    issued_from: date | None = Field(default=None, description="Issued on or after (UTC day).")
    issued_to: date | None = Field(default=None, description="Issued on or before (UTC day).")
    active_on: date | None = Field(
        default=None, description="Active at any time of this UTC day, closed since or not."
    )
    inherited: bool = Field(default=True, description="Recalls of the lots' ancestors too.")
    include_closed: bool = Field(default=False, description="Closed recalls too.")


class RecallLotPublic(BaseModel):
    lot_key: str
    gtin: str
    lot_code: str


class RecallPublic(BaseModel):
    recall_id: int
    issuer: str
    recall_class: int
    status: str
    voluntary: bool
    reason: str | None
    consumer_instructions: str | None
    trade_instructions: str | None
    reason_hash: str
    issued_at: datetime
    closed_at: datetime | None
    closed_reason: str | None = Field(
        description="Why the recall was closed, as its closer wrote it; null when open, or when "
        "this service holds only the hash of the words."
    )
    closed_reason_hash: str | None = Field(
        description="keccak-256 of the closing words' UTF-8 bytes, as the chain keeps it."
    )
    lots: list[RecallLotPublic]
    block_number: int | None
    tx_hash: str | None
