"""The contracts' vocabulary in Python: one definition of roles and enums for chain and SQL.

Members are strings (what SQL stores and the API speaks); `.code` is the `uint8` a Solidity enum
uses, which is the member's position, so the order here is the order in `ILotlink.sol`.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Self

from eth_utils import keccak


@cache
def _codes(enum: type[ChainEnum]) -> dict[ChainEnum, int]:
    return {member: position for position, member in enumerate(enum)}


class ChainEnum(StrEnum):
    """A named value whose on-chain form is its position (a Solidity enum's ``uint8``)."""

    @property
    def code(self) -> int:
        """The ``uint8`` the contracts use for this member."""
        # Asked for every event signed or checked: listing the members each time cost 2 µs.
        return _codes(type(self))[self]

    @classmethod
    def from_code(cls, code: int) -> Self:
        """The member the contracts encode as ``code``; ValueError for an unknown one."""
        members = list(cls)
        if not 0 <= code < len(members):
            raise ValueError(f"{cls.__name__} has no on-chain code {code}")
        return members[code]


class Role(StrEnum):
    """The contracts' AccessControl roles; `.id` is the bytes32 (keccak256("<NAME>_ROLE"))."""

    ADMIN = "admin"
    SUPPLIER = "supplier"
    INSPECTOR = "inspector"
    CARRIER = "carrier"
    CERTIFIER = "certifier"
    REGULATOR = "regulator"
    ANCHORER = "anchorer"

    @property
    def id(self) -> bytes:
        if self is Role.ADMIN:
            return bytes(32)  # OpenZeppelin's DEFAULT_ADMIN_ROLE
        return keccak(f"{self.name}_ROLE".encode())

    @classmethod
    def from_id(cls, role_id: bytes) -> Role:
        """The role whose bytes32 id is `role_id`; ValueError for an unknown one."""
        for role in cls:
            if role.id == role_id:
                return role
        raise ValueError(f"unknown role id 0x{role_id.hex()}")


class CheckpointKind(ChainEnum):
    """What a checkpoint records (`ILotlink.CheckpointKind`); fixes which roles may sign it."""

    PRODUCED = "produced"
    INSPECTED = "inspected"
    SHIPPED = "shipped"
    RECEIVED = "received"
    TRANSFORMED = "transformed"


class SubjectKind(ChainEnum):
    """Whether a certificate is about an actor or a lot (`ILotlink.SubjectKind`)."""

    ACTOR = "actor"
    LOT = "lot"


class CertificateKind(ChainEnum):
    """The documents Lotlink certifies (`ILotlink.CertificateKind`)."""

    ISO9001 = "iso9001"
    PRODUCTION_LICENCE = "production_licence"
    INSPECTION_REPORT = "inspection_report"
    CERTIFICATE_OF_ANALYSIS = "certificate_of_analysis"
    OTHER = "other"
