"""Checkpoints: the plain JSON form, and what an accepted event looks like."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from lotlink.schemas.common import Hex, Input, Quantity, Unit
from lotlink.vocabulary import CheckpointKind


class PartyIn(Input):
    type: Literal["owning_party", "possessing_party", "location"] = "owning_party"
    gln: str


class InputLotIn(Input):
    """A lot consumed by a transformation."""

    gtin: str
    lot_code: str
    quantity: Quantity | None = None
    unit: Unit | None = None


class CheckpointCreate(Input):
    """One checkpoint of the lot named in the URL, in plain terms; the service builds the EPCIS
    2.0 event (see `lotlink.epcis.build` for the CBV mapping)."""

    kind: CheckpointKind
    time: str = Field(
        description="When it happened, ISO 8601 with its offset, at most milliseconds.",
        examples=["2025-03-01T09:30:00.000+01:00"],
    )
    biz_step: str | None = Field(default=None, description="CBV bizStep; default per kind.")
    disposition: str | None = Field(default=None, description="CBV disposition; default per kind.")
    result: Literal["conformant", "non_conformant", "damaged"] | None = Field(
        default=None, description="An inspection's result (its disposition)."
    )
    location: str | None = Field(default=None, description="GLN; default: the actor's GLN.")
    quantity: Quantity | None = None
    unit: Unit | None = None
    inputs: list[InputLotIn] = Field(default_factory=list, max_length=256)
    sources: list[PartyIn] = Field(default_factory=list, max_length=16)
    destinations: list[PartyIn] = Field(default_factory=list, max_length=16)
    documents: list[str] = Field(
        default_factory=list, max_length=64, description="SHA-256 of uploaded documents."
    )
    previous: list[Hex] | None = Field(
        default=None,
        description="The digests of the previous events of the lots the event touches, as the "
        "client signed them; omitted, the service uses the lots' current heads.",
    )
    signature: Hex | None = Field(
        default=None,
        description="The actor's EIP-712 Checkpoint(eventHash, lotKey, kind) signature; required "
        "for self-custody actors.",
    )


class CheckpointPublic(BaseModel):
    digest: str
    event_id: str
    kind: CheckpointKind
    status: str
    signer: str
    signature: str
    lot_key: str
    previous: dict[str, str | None] = Field(description="lot key -> previous event digest")
    record_time: datetime
    event: dict[str, Any]


class CaptureResult(BaseModel):
    """What `POST /epcis/capture` accepted: one entry per event, in document order."""

    created: int
    existing: int
    checkpoints: list[CheckpointPublic]
