"""Direct mode: one ``recordCheckpoint`` per event, for low-volume deployments.

Only custodial signers can be recorded directly: the contract checks a ``RecordCheckpoint``
signature (with the signer's nonce and a deadline), which this service can make only with a key
it holds. Events of self-custody signers carry a ``Checkpoint`` signature only, so they still go
into Merkle batches (the batcher takes exactly those in this mode).

Crash safety: an entry is marked in flight (``batched`` without a batch) before its transaction
is sent. A restarted recorder looks an in-flight event up by its ``CheckpointRecorded`` log
before sending again, and a repeated send could not pass anyway once the signed nonce is spent.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lotlink.anchoring.lock import write_transaction
from lotlink.chain.contract import LotlinkContract
from lotlink.chain.deploy import load_deployment
from lotlink.chain.relayer import Relayer
from lotlink.config import Settings
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

SIGNATURE_LIFETIME_SECONDS = 3600


def _hex(value: Any) -> str:
    return "0x" + bytes(HexBytes(value)).hex()


class DirectRecorder:
    """Records custodial signers' events one transaction each."""

    def __init__(
        self,
        settings: Settings,
        contract: LotlinkContract,
        relayer: Relayer,
        sessions: sessionmaker[Session],
    ) -> None:
        self.settings = settings
        self.contract = contract
        self.relayer = relayer
        self.sessions = sessions

    def step(self) -> bool:
        """Records the oldest custodial event waiting; False when there is none."""
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
                return False
            in_flight = entry.state == OutboxState.BATCHED
            entry.state = OutboxState.BATCHED
            checkpoint = entry.checkpoint
            digest, lot_key = checkpoint.digest, checkpoint.primary_lot_key
            kind, signer = checkpoint.kind, checkpoint.signer_address
        found = self._recorded(digest) if in_flight else None
        if found is None:
            account = self._custodial_account(signer)
            args = (HexBytes(digest), HexBytes(lot_key), kind.code)
            auth = self.contract.sign_write(
                "recordCheckpoint",
                *args,
                signer=account,
                deadline=int(time.time()) + SIGNATURE_LIFETIME_SECONDS,
            )
            receipt = self.relayer.send("recordCheckpoint", *args, auth=auth)
            found = self._log_in(receipt, digest)
        if found is None:
            raise RuntimeError(f"recordCheckpoint of {digest} was mined without its log")
        self._store(digest, found)
        return True

    def _custodial_account(self, address: str) -> LocalAccount:
        from lotlink.keystore import load_custodial_account  # type: ignore[import-not-found,unused-ignore]

        account: LocalAccount = load_custodial_account(self.settings, address)
        return account

    def _recorded(self, digest: str) -> dict[str, Any] | None:
        """The CheckpointRecorded log of `digest`, if an earlier attempt got it mined."""
        deployment = load_deployment(self.settings.deployment_file)
        start = deployment.start_block() if deployment is not None else 0
        logs = self.contract.contract.events.CheckpointRecorded().get_logs(
            from_block=start, argument_filters={"eventHash": HexBytes(digest)}
        )
        for entry in logs:
            receipt = self.contract.w3.eth.get_transaction_receipt(entry["transactionHash"])
            found = self._log_in(receipt, digest)
            if found is not None:
                return found
        return None

    def _log_in(self, receipt: Any, digest: str) -> dict[str, Any] | None:
        event = self.contract.contract.events.CheckpointRecorded()
        for raw in receipt["logs"]:
            try:
                args = event.process_log(raw)["args"]
            except Exception:  # another event
                continue
            if _hex(args["eventHash"]) == digest:
                return {
                    "leaf": _hex(
                        self.contract.call(
                            "checkpointLeaf", args["eventHash"], args["lotKey"], args["signer"]
                        )
                    ),
                    "tx_hash": _hex(receipt["transactionHash"]),
                    "block_number": int(receipt["blockNumber"]),
                    "block_hash": _hex(receipt["blockHash"]),
                    "log_index": int(raw["logIndex"]),
                }
        return None

    def _store(self, digest: str, found: dict[str, Any]) -> None:
        with write_transaction(self.sessions) as session:
            if session.get(AnchorReceipt, digest) is None:
                session.add(
                    AnchorReceipt(
                        event_digest=digest,
                        leaf=found["leaf"],
                        proof=[],
                        root=found["leaf"],
                        batch_root=None,
                        tx_hash=found["tx_hash"],
                        block_number=found["block_number"],
                        block_hash=found["block_hash"],
                        log_index=found["log_index"],
                        created_at=utc_now(),
                    )
                )
            checkpoint = session.get_one(Checkpoint, digest)
            checkpoint.status = CheckpointStatus.ANCHORED
            entry = session.scalars(
                select(OutboxEntry).where(OutboxEntry.event_digest == digest)
            ).one()
            entry.state = OutboxState.ANCHORED
        log.info("checkpoint %s recorded directly in block %d", digest, found["block_number"])
