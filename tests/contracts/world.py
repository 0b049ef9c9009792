"""Test helpers for the contracts: who plays which role, how to send and relay writes, how to expect a revert."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from lotlink.chain.contract import ContractRevertError, LotlinkContract
from lotlink.chain.typed_data import Authorization
from lotlink.gs1.keys import check_digit, lot_key
from lotlink.vocabulary import Role

# GLNs with valid check digits, one per actor.
GLNS = {
    role: int(f"952123400{i:03d}" + str(check_digit(f"952123400{i:03d}")))
    for i, role in enumerate(Role)
}


def gtin(base: str) -> str:
    """A GTIN-14 with a valid check digit from 13 digits."""
    return base + str(check_digit(base))


@dataclass
class World:
    """The deployment under test and who plays each role in it."""

    w3: Web3
    lotlink: LotlinkContract
    actors: dict[Role, LocalAccount]
    stranger: LocalAccount
    _relayer_nonce: dict[str, int] = field(default_factory=dict)

    @property
    def admin(self) -> LocalAccount:
        return self.actors[Role.ADMIN]

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def send(self, function: str, *args: Any, by: LocalAccount) -> Any:
        """`by` sends the write itself (direct authorization appended)."""
        return self.lotlink.transact(function, *args, Authorization.direct().as_tuple(), sender=by)

    def relay(
        self,
        function: str,
        *args: Any,
        signer: LocalAccount,
        relayer: LocalAccount | None = None,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Any:
        """`signer` signs `function(*args)`; `relayer` (the stranger by default) sends it."""
        auth = self.lotlink.sign_write(
            function,
            *args,
            signer=signer,
            nonce=nonce,
            deadline=self.now() + 3600 if deadline is None else deadline,
        )
        return self.lotlink.transact(
            function, *args, auth.as_tuple(), sender=relayer or self.stranger
        )

    def register_lot(
        self,
        gtin14: str,
        lot_code: str,
        *,
        by: LocalAccount | None = None,
        parents: list[bytes] | None = None,
        quantities: list[int] | None = None,
    ) -> bytes:
        parents = parents or []
        lot = (
            gtin14,
            lot_code,
            parents,
            quantities or [1000] * len(parents),
            5000,
            "KGM",
            bytes(32),
        )
        self.send("registerLot", lot, by=by or self.actors[Role.SUPPLIER])
        return lot_key(gtin14, lot_code)


@contextmanager
def reverts(error_name: str, **expected_args: Any) -> Iterator[None]:
    """Asserts the block raises the contract's custom error `error_name` with these arguments."""
    with pytest.raises(ContractRevertError) as caught:
        yield
    assert caught.value.error_name == error_name, str(caught.value)
    for key, value in expected_args.items():
        actual = caught.value.error_args[key]
        if isinstance(value, str) and isinstance(actual, str):
            assert actual.lower() == value.lower(), (key, actual, value)
        else:
            assert actual == value, (key, actual, value)
