"""Direct mode: one ``recordCheckpoint`` per event, for low-volume deployments.

Only custodial signers can be recorded directly: the contract checks a ``RecordCheckpoint``
signature (with the signer's nonce and a deadline), which this service can make only with a key
it holds. Events of self-custody signers carry a ``Checkpoint`` signature only, so they still go
into Merkle batches (the batcher takes exactly those in this mode).

Exactly once, whatever crashes: each event is signed under a nonce of its own, sequence 0 of
the keyed sequence (OpenZeppelin NoncesKeyed) that the top 192 bits of its digest name. The
contract spends that nonce when it records the event, so however many transactions a crash, a
lost receipt or an outage makes us send for one event, at most one is ever mined with effect;
the others revert with ``InvalidAccountNonce``. An entry is marked in flight (``batched``
without a batch) before anything is signed, and a step that takes up an entry in flight first
looks for its ``CheckpointRecorded`` log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web3.exceptions import TransactionNotFound, Web3RPCError
from web3.types import Nonce, TxParams

from lotlink.anchoring.faults import crash_point
from lotlink.anchoring.lock import write_transaction
from lotlink.anchoring.manifest import LEAF_ENCODING
from lotlink.anchoring.sender import AnchorStoppedError, NonceTakenError, chain_errors
from lotlink.chain.contract import ContractRevertError, LotlinkContract
from lotlink.chain.deploy import load_deployment
from lotlink.chain.merkle import leaf_hash
from lotlink.chain.relayer import Relayer
from lotlink.config import Settings
from lotlink.errors import ChainUnavailableError, LotlinkError
from lotlink.models import (
    Actor,
    AnchorReceipt,
    Checkpoint,
    CheckpointStatus,
    Custody,
    OutboxEntry,
    OutboxState,
)
from lotlink.models.types import utc_now

log = logging.getLogger("lotlink.anchoring")

_T = TypeVar("_T")

SIGNATURE_LIFETIME_SECONDS = 3600
#: How long a sent record may wait to be mined before the next step looks again (and sends
#: afresh if the node dropped it: the event's own nonce keeps that to one record).
RECEIPT_WAIT_SECONDS = 60.0


class DirectRecordPendingError(LotlinkError):
    """Raised when a direct record's transaction is not mined in time; the next step retries."""

    retryable = True

    def __init__(self, *, digest: str, tx_hash: str, seconds: float) -> None:
        super().__init__(f"the record of {digest} ({tx_hash}) was not mined within {seconds:.0f}s")
        self.digest = digest
        self.tx_hash = tx_hash


def event_nonce(digest: str) -> int:
    """The nonce `digest` is recorded under: sequence 0 of the key its top 192 bits name."""
    return int(digest[2:50], 16) << 64


def _hex(value: Any) -> str:
    return "0x" + bytes(HexBytes(value)).hex()


@dataclass(frozen=True, slots=True)
class _Claim:
    """The outbox entry a step works on, and whether an earlier step had sent it already."""

    digest: str
    lot_key: str
    kind_code: int
    signer: str
    in_flight: bool


@dataclass(frozen=True, slots=True)
class DirectRecord:
    """Where an event was recorded: its CheckpointRecorded log."""

    leaf: str
    tx_hash: str
    block_number: int
    block_hash: str
    log_index: int


class DirectRecorder:
    """Records custodial signers' events one transaction each."""

    def __init__(
        self,
        settings: Settings,
        contract: LotlinkContract,
        relayer: Relayer,
        sessions: sessionmaker[Session],
        *,
        stop: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.contract = contract
        self.w3 = contract.w3
        self.relayer = relayer
        self.sessions = sessions
        self.stop = stop or threading.Event()
        self.url = str(getattr(self.w3.provider, "endpoint_uri", "the chain endpoint"))

    def step(self) -> bool:
        """Records the oldest custodial event waiting; False when there is none. Raises
        `ChainUnavailableError` (retry later) when the endpoint fails."""
        claim = self._claim()
        if claim is None:
            return False
        crash_point("after_claim")
        with chain_errors(self.url):
            found = self._recorded(claim.digest) if claim.in_flight else None
            if found is None:
                found = self._record(claim)
            found = self._confirmed(claim.digest, found)
        crash_point("after_receipt")
        self._store(claim.digest, found)
        return True

    def _claim(self) -> _Claim | None:
        """Marks the oldest custodial entry waiting in flight (it may be so already)."""
        with write_transaction(self.sessions) as session:
            entry = session.scalars(
                select(OutboxEntry)
                .join(Checkpoint, Checkpoint.digest == OutboxEntry.event_digest)
                .join(Actor, Actor.address == Checkpoint.signer_address)
                .where(
                    OutboxEntry.state.in_([OutboxState.QUEUED, OutboxState.BATCHED]),
                    OutboxEntry.batch_root.is_(None),
                    Actor.custody == Custody.CUSTODIAL,
                )
                .order_by(OutboxEntry.id)
                .limit(1)
            ).first()
            if entry is None:
                return None
            in_flight = entry.state == OutboxState.BATCHED
            if not in_flight:
                crash_point("before_record")
            entry.state = OutboxState.BATCHED
            checkpoint = entry.checkpoint
            return _Claim(
                digest=checkpoint.digest,
                lot_key=checkpoint.primary_lot_key,
                kind_code=checkpoint.kind.code,
                signer=checkpoint.signer_address,
                in_flight=in_flight,
            )

    # -- sending ------------------------------------------------------------------------------

    def _record(self, claim: _Claim) -> DirectRecord:
        args = (HexBytes(claim.digest), HexBytes(claim.lot_key), claim.kind_code)
        auth = self.contract.sign_write(
            "recordCheckpoint",
            *args,
            signer=self._custodial_account(claim.signer),
            nonce=event_nonce(claim.digest),
            deadline=int(time.time()) + SIGNATURE_LIFETIME_SECONDS,
        )
        call = (*args, auth.as_tuple())
        try:
            gas = self.contract.estimate_gas("recordCheckpoint", *call, sender=self.relayer.address)
        except ContractRevertError as error:
            if error.error_name != "InvalidAccountNonce":
                raise
            # The event's nonce is spent: a transaction of an earlier step recorded it.
            return self._recorded_surely(claim.digest)
        tx_hash = self._broadcast(call, gas=gas + gas // 4)
        log.debug("checkpoint %s: sent %s", claim.digest, tx_hash)
        crash_point("after_send")
        receipt = self._await_receipt(claim.digest, tx_hash)
        if receipt["status"] != 1:
            # Reverted: most likely another transaction of ours for this event won its nonce.
            return self._recorded_surely(claim.digest, failed=tx_hash)
        found = self._log_in(receipt, claim.digest)
        if found is None:
            raise RuntimeError(f"recordCheckpoint of {claim.digest} was mined without its log")
        return found

    def _broadcast(self, call: tuple[Any, ...], *, gas: int) -> str:
        with self.relayer.nonce_slot() as slot:
            params: TxParams = {
                "from": to_checksum_address(self.relayer.address),
                "nonce": Nonce(slot.nonce),
                "gas": gas,
                "chainId": self.contract.chain_id,
            }
            function = self.contract.contract.functions.recordCheckpoint(*call)
            transaction = cast(dict[str, Any], function.build_transaction(params))  # fees filled in
            signed = self.relayer.account.sign_transaction(transaction)
            try:
                self.w3.eth.send_raw_transaction(signed.raw_transaction)
            except Web3RPCError as error:
                if "nonce" in str(error).lower():  # another sender of this account took it
                    raise NonceTakenError(nonce=slot.nonce) from None
                raise
            slot.spent()
        return _hex(signed.hash)

    def _custodial_account(self, address: str) -> LocalAccount:
        from lotlink.keystore import load_custodial_account  # type: ignore[import-not-found,unused-ignore]

        account: LocalAccount = load_custodial_account(self.settings, address)
        return account

    # -- waiting ------------------------------------------------------------------------------

    def _receipt(self, tx_hash: str) -> Any | None:
        try:
            return self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except TransactionNotFound:
            return None

    def _await_receipt(self, digest: str, tx_hash: str) -> Any:
        receipt = self._poll(lambda: self._receipt(tx_hash), seconds=RECEIPT_WAIT_SECONDS)
        if receipt is None:
            # Dropped by the node, or queued behind a nonce it lost: re-read the relayer's
            # nonce, and let the next step send again.
            self.relayer.forget_nonce()
            raise DirectRecordPendingError(
                digest=digest, tx_hash=tx_hash, seconds=RECEIPT_WAIT_SECONDS
            )
        return receipt

    def _confirmed(self, digest: str, found: DirectRecord) -> DirectRecord:
        """Waits for the configured confirmations, then re-reads the log (a reorg may move it)."""
        confirmations = self.settings.confirmations
        if confirmations == 0:
            return found
        target = found.block_number + confirmations
        self._poll(lambda: int(self.w3.eth.block_number) >= target or None, seconds=None)
        receipt = self._receipt(found.tx_hash)
        again = None if receipt is None else self._log_in(receipt, digest)
        if again is None:
            raise ChainUnavailableError(url=self.url, reason=f"record of {digest} reorged")
        return again

    def _poll(self, fetch: Callable[[], _T | None], *, seconds: float | None) -> _T | None:
        """Calls `fetch` until it returns something, or None once `seconds` passed; raises
        `AnchorStoppedError` when the anchorer is asked to stop meanwhile."""
        deadline = None if seconds is None else time.monotonic() + seconds
        pause = 0.01
        while (value := fetch()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                return None
            if self.stop.wait(pause):
                raise AnchorStoppedError()
            pause = min(pause * 2, 0.5)
        return value

    # -- what the chain already knows ---------------------------------------------------------

    def _recorded(self, digest: str) -> DirectRecord | None:
        """The CheckpointRecorded log of `digest`, if an earlier attempt got it mined."""
        deployment = load_deployment(self.settings.deployment_file)
        start = deployment.start_block() if deployment is not None else 0
        logs = self.contract.contract.events.CheckpointRecorded().get_logs(
            from_block=start, argument_filters={"eventHash": HexBytes(digest)}
        )
        for entry in logs:
            receipt = self._receipt(entry["transactionHash"])
            found = None if receipt is None else self._log_in(receipt, digest)
            if found is not None:
                return found
        return None

    def _recorded_surely(self, digest: str, *, failed: str | None = None) -> DirectRecord:
        found = self._recorded(digest)
        if found is None:
            what = f"transaction {failed} reverted" if failed else "its nonce is spent"
            raise RuntimeError(f"recordCheckpoint of {digest}: {what}, and no record is on chain")
        return found

    def _log_in(self, receipt: Any, digest: str) -> DirectRecord | None:
        event = self.contract.contract.events.CheckpointRecorded()
        for raw in receipt["logs"]:
            if to_checksum_address(raw["address"]) != self.contract.address:
                continue
            try:
                args = event.process_log(raw)["args"]
            except Exception:  # another event of the contract
                continue
            if _hex(args["eventHash"]) != digest:
                continue
            signer = to_checksum_address(args["signer"])
            leaf = leaf_hash(LEAF_ENCODING, (HexBytes(digest), args["lotKey"], signer))
            return DirectRecord(
                leaf=_hex(leaf),
                tx_hash=_hex(receipt["transactionHash"]),
                block_number=int(receipt["blockNumber"]),
                block_hash=_hex(receipt["blockHash"]),
                log_index=int(raw["logIndex"]),
            )
        return None

    # -- storing ------------------------------------------------------------------------------

    def _store(self, digest: str, found: DirectRecord) -> None:
        """The event's receipt (root = leaf, no proof, no batch), and its entry done."""
        with write_transaction(self.sessions) as session:
            if session.get(AnchorReceipt, digest) is None:
                session.add(
                    AnchorReceipt(
                        event_digest=digest,
                        leaf=found.leaf,
                        proof=[],
                        root=found.leaf,
                        batch_root=None,
                        tx_hash=found.tx_hash,
                        block_number=found.block_number,
                        block_hash=found.block_hash,
                        log_index=found.log_index,
                        created_at=utc_now(),
                    )
                )
            checkpoint = session.get_one(Checkpoint, digest)
            checkpoint.status = CheckpointStatus.ANCHORED
            entry = session.scalars(
                select(OutboxEntry).where(OutboxEntry.event_digest == digest)
            ).one()
            entry.state = OutboxState.ANCHORED
        log.info("checkpoint %s recorded directly in block %d", digest, found.block_number)
