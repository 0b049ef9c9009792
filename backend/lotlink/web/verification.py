"""Whether each fact on a page may be called verified, checked against the chain's index.

A step (one stored event) is **verified** when all of these hold:

1. its stored text re-hashes (CBV 2.0) to its digest: nobody edited the row;
2. the signature recovers to its signer over the EIP-712 ``Checkpoint`` in this deployment;
3. the leaf of (digest, lot key, signer) folds through the stored proof to the stored root;
4. the index recorded that root as anchored from the chain: a ``BatchAnchored`` log (or, for a
   direct record, the ``CheckpointRecorded`` log) that the indexer applied, which it does only
   once the block has the configured confirmations;
5. the signer held, by the index, a role that fits the kind.

Results are cached per (digest, SHA-256 of the stored text, receipt): an edited row changes the
key and is checked afresh; an anchored step is not re-checked on every page view. A document is
checked by re-hashing its stored bytes against the hash its certificate anchored.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from hexbytes import HexBytes
from sqlalchemy import select
from sqlalchemy.orm import Session

from lotlink.anchoring.manifest import LEAF_ENCODING
from lotlink.anchoring.verify import ROLES_FOR_KIND
from lotlink.chain.merkle import MerkleTreeError, leaf_hash, process_proof
from lotlink.chain.typed_data import Domain, recover_typed
from lotlink.epcis.build import stored_digest
from lotlink.models import (
    ActorRole,
    AnchorReceipt,
    AppliedLog,
    Batch,
    Checkpoint,
    CheckpointStatus,
)
from lotlink.services.checkpoints import checkpoint_message


class Verdict(StrEnum):
    VERIFIED = "verified"
    PENDING = "pending"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Check:
    """The outcome for one fact: a verdict and, unless verified, why, in plain words."""

    verdict: Verdict
    reasons: tuple[str, ...] = ()
    technical: str | None = None  # the evidence behind the reasons, for those who want it

    @property
    def verified(self) -> bool:
        return self.verdict is Verdict.VERIFIED


class _Cache:
    """A bounded, thread-safe LRU whose entries also expire (a reorg may undo an anchor)."""

    def __init__(self, *, size: int = 50_000, ttl_seconds: float = 300.0) -> None:
        self._items: OrderedDict[Hashable, tuple[float, Check]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size
        self._ttl = ttl_seconds

    def get(self, key: Hashable) -> Check | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: Hashable, check: Check) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self._ttl, check)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


step_cache = _Cache()
document_cache = _Cache(size=10_000, ttl_seconds=60.0)

TAMPERED = (
    "This record was changed after it was signed: it no longer matches the fingerprint that "
    "was anchored on the blockchain, so it cannot be trusted."
)
PENDING = "Recorded and signed, but not yet anchored on the blockchain. Check again in a minute."


def text_hash(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def check_step(
    session: Session,
    checkpoint: Checkpoint,
    receipt: AnchorReceipt | None,
    *,
    domain: Domain | None,
) -> Check:
    """The verdict on one stored event (see the module's docstring for what is checked)."""
    anchored = receipt is not None and checkpoint.status == CheckpointStatus.ANCHORED
    key = (
        checkpoint.digest,
        text_hash(checkpoint.epcis_json),
        checkpoint.signature,
        None if not anchored or receipt is None else (receipt.root, receipt.tx_hash, receipt.leaf),
    )
    if (cached := step_cache.get(key)) is not None:
        return cached
    check = _check_step(session, checkpoint, receipt if anchored else None, domain=domain)
    step_cache.put(key, check)
    return check


def _check_step(
    session: Session,
    checkpoint: Checkpoint,
    receipt: AnchorReceipt | None,
    *,
    domain: Domain | None,
) -> Check:
    digest = checkpoint.digest
    try:
        rehashed = "0x" + stored_digest(checkpoint.epcis_json).hex()
    except Exception:
        return Check(Verdict.FAILED, (TAMPERED, "The stored record cannot even be read."))
    if rehashed != digest:
        return Check(
            Verdict.FAILED,
            (TAMPERED,),
            technical=f"Its content now hashes to {rehashed}, not to the anchored {digest}.",
        )
    reasons: list[str] = []
    if domain is None:
        reasons.append("The service runs without a deployment, so nothing can be checked.")
    else:
        try:
            message = checkpoint_message(
                bytes(HexBytes(digest)), checkpoint.primary_lot_key, checkpoint.kind
            )
            signer = recover_typed(
                "Checkpoint", message, domain, bytes(HexBytes(checkpoint.signature))
            )
        except Exception:
            signer = None
        if signer is None or signer.lower() != checkpoint.signer_address.lower():
            reasons.append("The signature is not the named signer's.")
    if receipt is None:
        return Check(Verdict.FAILED if reasons else Verdict.PENDING, tuple(reasons) or (PENDING,))

    leaf = (
        "0x"
        + leaf_hash(
            LEAF_ENCODING, (digest, checkpoint.primary_lot_key, checkpoint.signer_address)
        ).hex()
    )
    if leaf != receipt.leaf:
        reasons.append("Its anchor is for another event, lot or signer.")
    try:
        root = "0x" + process_proof(HexBytes(leaf), [HexBytes(n) for n in receipt.proof]).hex()
    except MerkleTreeError:
        root = None
    if root != receipt.root:
        reasons.append("Its proof does not lead to the anchored root.")
    elif not _root_indexed(session, receipt):
        reasons.append(
            "Its anchor has not been seen on the blockchain with enough confirmations yet."
        )
    roles = ROLES_FOR_KIND[checkpoint.kind]
    held = session.scalar(
        select(ActorRole.role).where(
            ActorRole.actor_address == checkpoint.signer_address,
            ActorRole.role.in_([r.value for r in roles]),
            ActorRole.block_number.is_not(None),
        )
    )
    if held is None:
        wanted = " or ".join(r.value for r in roles)
        reasons.append(f"The signer is not registered on the blockchain as a {wanted}.")
    if reasons:
        return Check(Verdict.FAILED, tuple(reasons))
    return Check(Verdict.VERIFIED)


def _root_indexed(session: Session, receipt: AnchorReceipt) -> bool:
    """Whether the indexer applied the log that anchors the receipt's root."""
    if receipt.batch_root is None:
        where = (receipt.tx_hash, receipt.log_index, "CheckpointRecorded")
        if receipt.root != receipt.leaf:
            return False
    else:
        batch = session.get(Batch, receipt.root)
        if batch is None or batch.tx_hash is None or batch.log_index is None:
            return False
        where = (batch.tx_hash, batch.log_index, "BatchAnchored")
    applied = session.get(AppliedLog, (where[0], where[1]))
    return applied is not None and applied.event_name == where[2]


def check_document(path: Path | None, anchored_hash: str) -> Check:
    """Whether the stored bytes at `path` hash (SHA-256) to the hash a certificate anchored."""
    if path is None or not path.is_file():
        return Check(Verdict.FAILED, ("The document is not stored here, so it cannot be checked.",))
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns, anchored_hash)
    if (cached := document_cache.get(key)) is not None:
        return cached
    digest = "0x" + hashlib.sha256(path.read_bytes()).hexdigest()
    check = (
        Check(Verdict.VERIFIED)
        if digest == anchored_hash.lower()
        else Check(
            Verdict.FAILED,
            ("The stored file differs from the one whose fingerprint was anchored.",),
        )
    )
    document_cache.put(key, check)
    return check
