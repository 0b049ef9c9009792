"""GS1 keys as Lotlink accepts them, validated the same way the contracts validate them.

Every function raises `InvalidGs1KeyError` naming the key and what is wrong with it, so an API or
CLI can pass the message straight to the user.
"""

from __future__ import annotations

import re

from lotlink.chain.keccak import keccak256
from lotlink.errors import InvalidGs1KeyError

# GS1 General Specifications, figure 7.11-1: CSET 82, the characters allowed in a lot or serial.
_CSET82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+$")
_LOT_CODE_MAX = 20


def check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit for `digits` (the key without its check digit)."""
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def normalize_gtin(gtin: str) -> str:
    """A GTIN-8/12/13/14 as GTIN-14 (left-padded with zeros), its check digit verified."""
    value = gtin.strip()
    if not value.isascii() or not value.isdigit() or len(value) not in (8, 12, 13, 14):
        raise InvalidGs1KeyError(key="GTIN", value=gtin, reason="must be 8, 12, 13 or 14 digits")
    if check_digit(value[:-1]) != int(value[-1]):
        expected = check_digit(value[:-1])
        raise InvalidGs1KeyError(
            key="GTIN", value=gtin, reason=f"check digit is {value[-1]}, expected {expected}"
        )
    return value.zfill(14)


def normalize_gln(gln: str | int) -> str:
    """A 13-digit GLN, its check digit verified."""
    value = str(gln).strip().zfill(13) if isinstance(gln, int) else gln.strip()
    if not value.isascii() or not value.isdigit() or len(value) != 13:
        raise InvalidGs1KeyError(key="GLN", value=str(gln), reason="must be 13 digits")
    if check_digit(value[:-1]) != int(value[-1]):
        expected = check_digit(value[:-1])
        raise InvalidGs1KeyError(
            key="GLN", value=str(gln), reason=f"check digit is {value[-1]}, expected {expected}"
        )
    return value


def validate_lot_code(lot_code: str) -> str:
    """A lot code of 1 to 20 GS1 CSET 82 characters, unchanged (lot codes are case-sensitive)."""
    if not lot_code or len(lot_code) > _LOT_CODE_MAX:
        raise InvalidGs1KeyError(
            key="lot code", value=lot_code, reason=f"must have 1 to {_LOT_CODE_MAX} characters"
        )
    if not _CSET82.match(lot_code):
        raise InvalidGs1KeyError(
            key="lot code", value=lot_code, reason="has characters outside GS1 CSET 82"
        )
    return lot_code


def lot_key(gtin: str, lot_code: str) -> bytes:
    """keccak256("01" ‖ GTIN-14 ‖ "10" ‖ lot code): the lot's key on chain and everywhere else."""
    return keccak256(f"01{normalize_gtin(gtin)}10{validate_lot_code(lot_code)}".encode("ascii"))
