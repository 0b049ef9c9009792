"""Lots: registration input and the public view of a lot."""

from __future__ import annotations

from pydantic import BaseModel, Field

from lotlink.schemas.common import Hex, Input, Quantity, Unit


class ParentIn(Input):
    """A lot this one was made from, and how much of it was consumed (in the parent's unit)."""

    gtin: str = Field(examples=["09521234000013"])
    lot_code: str
    quantity: Quantity


class ClientAuthorization(Input):
    """A self-custody actor's EIP-712 `RegisterLot` signature, with its keyed nonce and deadline."""

    signature: Hex
    nonce: int = Field(ge=0, lt=2**256)
    deadline: int = Field(ge=0, lt=2**256)


class LotCreate(Input):
    gtin: str = Field(description="GTIN-8, -12, -13 or -14; stored as GTIN-14.")
    lot_code: str = Field(description="1 to 20 GS1 CSET 82 characters.")
    product_name: str | None = Field(default=None, max_length=200)
    quantity: Quantity
    unit: Unit
    parents: list[ParentIn] = Field(default_factory=list, max_length=256)
    authorization: ClientAuthorization | None = Field(
        default=None, description="Required for self-custody actors; custodial ones are signed."
    )


class ParentPublic(BaseModel):
    lot_key: str
    gtin: str
    lot_code: str
    quantity: float | int
    unit: str


class LotPublic(BaseModel):
    lot_key: str
    gtin: str
    lot_code: str
    digital_link: str
    product_name: str | None
    quantity: float | int
    unit: str
    owner: str
    head_digest: str | None = Field(description="The digest of the lot's latest event.")
    details_hash: str | None
    parents: list[ParentPublic]
    block_number: int | None
    tx_hash: str | None
    log_index: int | None
