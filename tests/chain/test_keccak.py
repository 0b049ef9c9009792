"""`lotlink.chain.keccak` is Ethereum's Keccak-256 (not NIST SHA3-256), equal to eth_utils'."""

from __future__ import annotations

import hashlib
import os

from eth_utils import keccak

from lotlink.chain.keccak import keccak256


def test_known_digests() -> None:
    assert (
        keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    assert keccak256(b"abc").hex() == (
        "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    )
    # The padding differs from SHA3-256's: the same input hashes to something else there.
    assert keccak256(b"abc") != hashlib.sha3_256(b"abc").digest()


def test_equals_eth_utils_across_block_boundaries() -> None:
    # 136 bytes is Keccak-256's rate: lengths around it and its multiples exercise the padding.
    for length in (0, 1, 31, 32, 33, 64, 135, 136, 137, 271, 272, 273, 1000):
        data = os.urandom(length)
        assert keccak256(data) == keccak(data), length
