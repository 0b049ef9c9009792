"""What a service needs to write on chain: the contract client, the relayer, and fresh nonces."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.exceptions import MismatchedABI
from web3.types import TxReceipt

from lotlink.chain.compile import load_artifact
from lotlink.chain.contract import LotlinkContract
from lotlink.chain.deploy import Deployment
from lotlink.chain.relayer import Relayer
from lotlink.config import Settings

#: How long a relayed signature made by this service stays valid.
SIGNATURE_LIFETIME_S = 3600


@dataclass(frozen=True, slots=True)
class LogPosition:
    """Where a log landed: what `ChainProvenance` columns store."""

    block_number: int
    tx_hash: str
    log_index: int
    args: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChainAccess:
    """The deployment's contract and the process's one relayer (one nonce sequence per process)."""

    settings: Settings
    contract: LotlinkContract
    relayer: Relayer

    @classmethod
    def connect(cls, settings: Settings, w3: Web3, deployment: Deployment) -> ChainAccess:
        contract = LotlinkContract(w3, deployment.address(), load_artifact("Lotlink").abi)
        return cls(settings, contract, Relayer.of_service(settings, contract))

    def logs_of(self, receipt: TxReceipt, event_name: str) -> list[LogPosition]:
        """Every `event_name` log of this contract in `receipt`, in log order."""
        event = getattr(self.contract.contract.events, event_name)()
        found = []
        for log in receipt["logs"]:
            if log["address"] != self.contract.address:
                continue
            try:
                decoded = event.process_log(log)
            except MismatchedABI:  # another event of the same contract
                continue
            found.append(
                LogPosition(
                    block_number=int(log["blockNumber"]),
                    tx_hash="0x" + bytes(log["transactionHash"]).hex(),
                    log_index=int(log["logIndex"]),
                    args=dict(decoded["args"]),
                )
            )
        return found

    def log_of(self, receipt: TxReceipt, event_name: str) -> LogPosition:
        """The first `event_name` log of this contract in `receipt`."""
        found = self.logs_of(receipt, event_name)
        if not found:
            raise LookupError(f"no {event_name} log in transaction {receipt['transactionHash']!r}")
        return found[0]


def fresh_nonce() -> int:
    """A keyed nonce (OpenZeppelin NoncesKeyed) in a random, unused sequence: concurrent
    signatures by one signer never race for a nonce, and no RPC call is needed to pick one."""
    return secrets.randbits(192) << 64


def signature_deadline() -> int:
    return int(time.time()) + SIGNATURE_LIFETIME_S
