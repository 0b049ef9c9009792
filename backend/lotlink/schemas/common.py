"""Shapes several resources share."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

#: A quantity as the contracts keep it: at most three decimals (thousandths of its unit).
Quantity = Annotated[Decimal, Field(ge=0, le=Decimal(2**63 - 1) / 1000, decimal_places=3)]
#: A UN/ECE Recommendation 20 unit code ("KGM", "H87", "LTR").
Unit = Annotated[str, Field(pattern=r"^[A-Z0-9]{2,3}$", examples=["KGM"])]
Hex = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]*$")]


class Input(BaseModel):
    """Requests are strict: an unknown field is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ActorPublic(BaseModel):
    address: str
    name: str | None
    gln: str | None
    custody: str
    roles: list[str]


class SigningDomain(BaseModel):
    """The EIP-712 domain clients sign in (`Checkpoint`, `RegisterLot`, …)."""

    name: str
    version: str
    chainId: int
    verifyingContract: str


class Me(ActorPublic):
    domain: SigningDomain
