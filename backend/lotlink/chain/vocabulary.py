"""The contracts' enums and role ids, as Python values with the same numbers and hashes."""

from __future__ import annotations

import enum

from eth_utils import keccak


class Role(enum.StrEnum):
    """Actor roles; `.id` is the bytes32 the contract uses (keccak256 of e.g. "SUPPLIER_ROLE")."""

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
        for role in cls:
            if role.id == role_id:
                return role
        raise ValueError(f"unknown role id 0x{role_id.hex()}")


class CheckpointKind(enum.IntEnum):
    """`ILotlink.CheckpointKind`: what a checkpoint records."""

    PRODUCED = 0
    INSPECTED = 1
    SHIPPED = 2
    RECEIVED = 3
    TRANSFORMED = 4


class SubjectKind(enum.IntEnum):
    """`ILotlink.SubjectKind`: what a certificate is about."""

    ACTOR = 0
    LOT = 1


class CertificateKind(enum.IntEnum):
    """`ILotlink.CertificateKind`: which document a certificate is."""

    ISO_9001 = 0
    PRODUCTION_LICENCE = 1
    INSPECTION_REPORT = 2
    CERTIFICATE_OF_ANALYSIS = 3
    OTHER = 4


class RecallStatus(enum.IntEnum):
    """`ILotlink.RecallStatus`."""

    NONE = 0
    ACTIVE = 1
    CLOSED = 2
