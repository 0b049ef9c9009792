"""The sender: gets one batch root anchored on chain exactly once, whatever happened before.

Each call starts from what the chain and the database say, never from memory, so the same code
serves a first send and a restart after a crash:

1. a stored transaction of the batch was mined: its ``BatchAnchored`` log is the anchor;
2. the root is anchored already (``anchoredAt(root) != 0``, by a transaction lost to us or by
   another anchorer): the log at that block is the anchor, nothing is sent. Asked once something
   may have anchored it: a stored transaction, or the contract refusing a new one as anchored
   already (``LotlinkAlreadyAnchored``, which another anchorer's anchor makes it answer);
3. a stored transaction is still waiting: rebroadcast its exact bytes if the node forgot it,
   wait, and replace it (same nonce, higher fee) once it waited too long;
4. otherwise sign a new transaction, store it (raw bytes and nonce), and only then broadcast it.

Because every transaction is stored before it is broadcast and the contract refuses a root
twice (``LotlinkAlreadyAnchored``), no batch is ever anchored twice.

It speaks JSON-RPC itself (`lotlink.chain.rpc`) rather than through web3.py, whose request
pipeline cost more CPU than everything else the sender does for a batch of a thousand events.
A first send takes three requests: the relayer's nonce, fee data and the gas estimate in one,
the transaction, and its receipt. Receipts are read from their raw JSON, and the chain id is
checked once when the anchorer starts (`Anchorer.check_chain`), not per call.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from hexbytes import HexBytes
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web3.exceptions import ProviderConnectionError, RequestTimedOut

from lotlink.anchoring.faults import crash_point
from lotlink.anchoring.lock import read_transaction, write_transaction
from lotlink.chain.contract import LotlinkContract
from lotlink.chain.decode import LogDecoder
from lotlink.chain.fees import FEE_CALLS, fees_from
from lotlink.chain.relayer import Relayer
from lotlink.chain.typed_data import Authorization
from lotlink.errors import ChainRpcError, ChainUnavailableError, LotlinkError
from lotlink.models import AnchorTransaction, Batch, BatchStatus
from lotlink.models.types import utc_now

log = logging.getLogger("lotlink.anchoring")

#: A replacement must outbid the waiting transaction; nodes ask for at least +10 %.
FEE_BUMP = 1.25


class AnchorStoppedError(LotlinkError):
    """Raised inside the sender when the anchorer is asked to stop while it waits."""

    retryable = True

    def __init__(self) -> None:
        super().__init__("the anchorer is stopping")


@dataclass(frozen=True, slots=True)
class AnchorLog:
    """Where a root landed: its BatchAnchored log."""

    root: str
    tx_hash: str
    block_number: int
    block_hash: str
    log_index: int
    manifest_hash: str


@contextmanager
def chain_errors(url: str) -> Iterator[None]:
    """Turns transport failures into `ChainUnavailableError`, which callers retry."""
    try:
        yield
    except (
        requests.RequestException,
        ProviderConnectionError,
        RequestTimedOut,
        ConnectionError,
        TimeoutError,
    ) as error:
        raise ChainUnavailableError(url=url, reason=type(error).__name__) from None


def _hex(value: Any) -> str:
    return "0x" + bytes(HexBytes(value)).hex()


def _node_says(error: ChainRpcError, *words: str) -> bool:
    """True when the endpoint answered the call with an error whose message has one of `words`
    (not an HTTP failure: those have no JSON-RPC code)."""
    reason = error.reason.lower()
    return error.code is not None and any(word in reason for word in words)


class AnchorSender:
    """Anchors batch roots through the relayer's account, which holds the anchorer role."""

    def __init__(
        self,
        contract: LotlinkContract,
        relayer: Relayer,
        sessions: sessionmaker[Session],
        *,
        confirmations: int = 0,
        replace_after: float = 30.0,
        stop: threading.Event | None = None,
    ) -> None:
        self.contract = contract
        self.relayer = relayer
        self.sessions = sessions
        self.confirmations = confirmations
        self.replace_after = replace_after
        self.stop = stop or threading.Event()
        self.url = str(getattr(contract.w3.provider, "endpoint_uri", "the chain endpoint"))
        self.rpc = contract.rpc
        self.logs = LogDecoder(contract.abi)
        self._anchored_topic = self.logs.topic0("BatchAnchored")

    def anchor(self, root: str) -> AnchorLog:
        """Returns once `root` is anchored and confirmed; raises `ChainUnavailableError` when the
        endpoint fails (the caller backs off and calls again) and `ContractRevertError` when the
        contract refuses the batch for good (e.g. the relayer lost the anchorer role)."""
        with chain_errors(self.url):
            while True:
                batch, stored = self._read(root)
                found = self._mined_anchor(root, stored)
                if found is None and stored:
                    # A batch never sent skips this call: a round trip per batch, when the
                    # contract's refusal of a new one (step 2) says the same thing.
                    found = self._anchor_on_chain(root)
                if found is not None:
                    return self._confirmed(found)
                waiting = self._waiting_transaction(root, stored)
                # NonceTakenError: the slot re-reads the nonce, or the waiting transaction's
                # nonce was mined meanwhile; either way the next round finds out what happened.
                if waiting is None:
                    with contextlib.suppress(NonceTakenError):
                        found = self._send_new(batch)
                        if found is not None:
                            return self._confirmed(found)
                    continue
                deadline = waiting.sent_at.timestamp() + self.replace_after
                if self._wait_for_any(root, deadline=deadline):
                    continue
                with contextlib.suppress(NonceTakenError):
                    self._replace(batch, waiting)

    # -- what the chain already knows ---------------------------------------------------------

    def _read(self, root: str) -> tuple[Batch, list[AnchorTransaction]]:
        """The batch and its stored transactions, oldest first, as the database has them now
        (one read transaction)."""
        with read_transaction(self.sessions) as session:
            stored = list(
                session.scalars(
                    select(AnchorTransaction)
                    .where(AnchorTransaction.batch_root == root)
                    .order_by(AnchorTransaction.sent_at, AnchorTransaction.tx_hash)
                )
            )
            return _batch(session, root), stored

    def _receipts(self, tx_hashes: list[str]) -> list[dict[str, Any] | None]:
        """The receipts of `tx_hashes` (None: not mined), asked in one request."""
        return self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in tx_hashes])

    def _mined_anchor(self, root: str, transactions: list[AnchorTransaction]) -> AnchorLog | None:
        """The anchor made by one of our stored `transactions`, if one was mined successfully."""
        for receipt in self._receipts([stored.tx_hash for stored in transactions]):
            found = self._anchor_in(receipt, root)
            if found is not None:
                return found
        return None

    def _anchor_in(self, receipt: dict[str, Any] | None, root: str) -> AnchorLog | None:
        """The anchor of `root` a transaction made, if its `receipt` says it was mined
        successfully."""
        if receipt is None or int(receipt["status"], 16) != 1:
            return None
        return self._log_in(receipt["logs"], root)

    def _anchor_on_chain(self, root: str) -> AnchorLog | None:
        """The anchor of `root` on chain, whoever made it; None if it is not anchored."""
        call = {
            "to": self.contract.address,
            "data": _hex(self.contract.encode("anchoredAt", HexBytes(root))),
        }
        block = int(self.rpc.call("eth_call", [call, "latest"])[2:] or "0", 16)
        if block == 0:
            return None
        query = {
            "address": self.contract.address,
            "fromBlock": hex(block),
            "toBlock": hex(block),
            "topics": [self._anchored_topic, root],
        }
        found = self._log_in(self.rpc.call("eth_getLogs", [query]), root)
        if found is None:
            raise ChainUnavailableError(
                url=self.url,
                reason=f"root {root} is anchored at block {block} but its log is missing",
            )
        return found

    def _log_in(self, logs: list[dict[str, Any]], root: str) -> AnchorLog | None:
        """The BatchAnchored log of `root` among raw `logs` (a receipt's, or eth_getLogs')."""
        address = self.contract.address.lower()
        for raw in logs:
            if raw["address"].lower() != address or raw.get("removed"):
                continue
            decoded = self.logs.decode(raw)
            if decoded is None or decoded.name != "BatchAnchored":
                continue
            if decoded.args["root"] == root:
                return AnchorLog(
                    root=root,
                    tx_hash=decoded.tx_hash,
                    block_number=decoded.block_number,
                    block_hash=decoded.block_hash,
                    log_index=decoded.log_index,
                    manifest_hash=decoded.args["manifestHash"],
                )
        return None

    def _confirmed(self, found: AnchorLog) -> AnchorLog:
        """Waits for the configured confirmations, then re-reads the log (a reorg may move it)."""
        if self.confirmations == 0:
            return found
        self._sleep_until(
            lambda: (
                int(self.rpc.call("eth_blockNumber", []), 16)
                >= found.block_number + self.confirmations
            ),
            deadline=math.inf,
        )
        (receipt,) = self._receipts([found.tx_hash])
        again = None if receipt is None else self._log_in(receipt["logs"], found.root)
        if again is None:
            raise ChainUnavailableError(url=self.url, reason=f"anchor of {found.root} reorged")
        return again

    # -- waiting and replacing ----------------------------------------------------------------

    def _waiting_transaction(
        self, root: str, stored: list[AnchorTransaction]
    ) -> AnchorTransaction | None:
        """The newest of the batch's `stored` transactions if it may still be mined;
        rebroadcast if the node lost it. None when there is none, or when its nonce was used by
        something else."""
        if not stored:
            return None
        newest = stored[-1]
        if newest.raw_transaction is None:
            return None
        if self.rpc.call("eth_getTransactionByHash", [newest.tx_hash]) is not None:
            return newest
        try:
            self.rpc.call("eth_sendRawTransaction", [newest.raw_transaction])
            log.info("rebroadcast %s (nonce %d) for batch %s", newest.tx_hash, newest.nonce, root)
            return newest
        except ChainRpcError as error:
            if _node_says(error, "already", "known"):
                return newest
            if _node_says(error, "nonce"):  # mined meanwhile (checked next round) or taken
                if self._receipts([newest.tx_hash])[0] is not None:
                    return newest
                self.relayer.forget_nonce()
                return None
            raise

    def _wait_for_any(self, root: str, *, deadline: float) -> bool:
        """Polls the batch's transactions until one is mined (True) or `deadline` (False)."""
        hashes = [stored.tx_hash for stored in self._read(root)[1]]
        return self._sleep_until(
            lambda: any(receipt is not None for receipt in self._receipts(hashes)),
            deadline=deadline,
        )

    def _sleep_until(self, condition: Callable[[], bool], *, deadline: float) -> bool:
        pause = 0.01
        while True:
            if condition():
                return True
            if time.time() >= deadline:
                return False
            if self.stop.wait(min(pause, max(0.0, deadline - time.time()))):
                raise AnchorStoppedError()
            pause = min(pause * 2, 0.5)

    # -- signing and broadcasting -------------------------------------------------------------

    def _calldata(self, batch: Batch) -> bytes:
        return self.contract.encode(
            "anchorBatch",
            HexBytes(batch.root),
            HexBytes(batch.manifest_hash),
            batch.event_count,
            batch.manifest_uri or "",
            Authorization.direct().as_tuple(),
        )

    def _send_new(self, batch: Batch) -> AnchorLog | None:
        """Signs, stores and sends a first transaction for `batch`. Returns the anchor, with
        nothing sent, when the contract refuses a new one as anchored already."""
        root, data = batch.root, self._calldata(batch)
        call = {"from": self.relayer.address, "to": self.contract.address, "data": _hex(data)}
        with self.relayer.nonce_slot(*FEE_CALLS, ("eth_estimateGas", [call])) as slot:
            block, priority, estimate = slot.answers
            if isinstance(estimate, ChainRpcError):
                refused = self.contract.revert_in("anchorBatch", estimate)
                if refused is None:
                    raise estimate
                if refused.error_name != "LotlinkAlreadyAnchored":
                    raise refused
            else:
                fees = fees_from(self.rpc, block, priority)
                gas = int(estimate, 16) * 5 // 4
                self._broadcast(root, data, nonce=slot.nonce, gas=gas, fees=fees)
                slot.spent()
                return None  # the next round finds it mined, or waits for it
        return self._anchor_on_chain(root)

    def _replace(self, batch: Batch, waiting: AnchorTransaction) -> None:
        """Same nonce, higher fees: whichever of the two is mined anchors the batch."""
        answers = self.rpc.batch(list(FEE_CALLS), settled=True)
        max_fee, priority = fees_from(self.rpc, *answers)
        old_max = waiting.max_fee_per_gas or 0
        old_priority = waiting.max_priority_fee_per_gas or 0
        bumped = (
            max(max_fee, math.ceil(old_max * FEE_BUMP)),
            max(priority, math.ceil(old_priority * FEE_BUMP)),
        )
        root, data = batch.root, self._calldata(batch)
        log.warning(
            "batch %s: transaction %s waited %.0fs; replacing it at nonce %d",
            root, waiting.tx_hash, self.replace_after, waiting.nonce,
        )  # fmt: skip
        try:
            self._broadcast(
                root, data, nonce=waiting.nonce, gas=waiting.gas_limit or 200_000, fees=bumped
            )
        except ChainRpcError as error:
            if not _node_says(error, "underpriced"):
                raise
            # The next replacement starts from these fees and bumps again.

    def _broadcast(
        self, root: str, data: bytes, *, nonce: int, gas: int, fees: tuple[int, int]
    ) -> None:
        """Signs, stores, then broadcasts: the stored row is what makes a crash recoverable."""
        max_fee, priority = fees
        transaction: dict[str, Any] = {
            "type": 2,
            "chainId": self.contract.chain_id,
            "nonce": nonce,
            "to": self.contract.address,
            "value": 0,
            "data": data,
            "gas": gas,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": priority,
        }
        signed = self.relayer.account.sign_transaction(transaction)
        tx_hash = _hex(signed.hash)
        with write_transaction(self.sessions) as session:
            batch = _batch(session, root)
            session.add(
                AnchorTransaction(
                    tx_hash=tx_hash,
                    batch_root=root,
                    nonce=nonce,
                    max_fee_per_gas=max_fee,
                    max_priority_fee_per_gas=priority,
                    gas_limit=gas,
                    raw_transaction=_hex(signed.raw_transaction),
                    sent_at=utc_now(),
                )
            )
            batch.status = BatchStatus.SENT
            batch.tx_hash = tx_hash
            batch.tx_nonce = nonce
            batch.attempts += 1
            batch.sent_at = batch.sent_at or utc_now()
        crash_point("after_sign")
        try:
            self.rpc.call("eth_sendRawTransaction", [_hex(signed.raw_transaction)])
        except ChainRpcError as error:
            if _node_says(error, "nonce"):
                # Taken by another sender of this account: this transaction can never be mined.
                with write_transaction(self.sessions) as session:
                    dead = session.get(AnchorTransaction, tx_hash)
                    if dead is not None:
                        session.delete(dead)
                raise NonceTakenError(nonce=nonce) from None
            raise
        log.info("batch %s: sent %s at nonce %d", root, tx_hash, nonce)
        crash_point("after_send")


def _batch(session: Session, root: str) -> Batch:
    """Batch `root` (its manifest, a row of its own, is loaded only if read: never here)."""
    return session.get_one(Batch, root)


class NonceTakenError(LotlinkError):
    """Raised when the node says the relayer's nonce is used already; retried with a new one."""

    retryable = True

    def __init__(self, *, nonce: int) -> None:
        super().__init__(f"the relayer's nonce {nonce} was used by another transaction")
