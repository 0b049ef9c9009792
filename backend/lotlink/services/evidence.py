"""Evidence bundles: one JSON file holding everything a regulator needs to prove a trace or a
recall later, checkable against the chain with `lotlink verify` and nothing else.

A bundle (``format: lotlink-evidence``, version 1) holds:

- ``chainId`` and ``contract``: where every record below is anchored;
- ``lots``: every lot of the trace (both directions from each subject lot) with its registration
  as the ``LotRegistered`` log states it (GTIN, lot code, parents and quantities consumed,
  quantity, unit, details hash, owner) and where that log is (transaction, block, log index),
  its ``head`` event and ``events``, the lot's hash chain from its first event to the head;
- ``events``: the receipt (`receipt_document`) of every event of those lots, and of every event
  one of them names as ``lotlink:previous`` for another lot (so each link resolves inside the
  bundle);
- ``recalls`` naming any of the lots (wording included when known, so its hash can be checked);
- ``certificates`` about any of the lots or their owners.

Quantities are integers in thousandths of their unit, as on chain.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lotlink.anchoring.receipts import receipt_document
from lotlink.models import (
    AnchorReceipt,
    Certificate,
    Checkpoint,
    CheckpointLot,
    Lot,
    Recall,
    RecallLot,
)
from lotlink.services.recalls import get_recall
from lotlink.services.trace import Direction, trace
from lotlink.vocabulary import SubjectKind

FORMAT = "lotlink-evidence"
VERSION = 1
_CHUNK = 900


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)] or [[]]


def _unix(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.timestamp())


def _checkpoints(session: Session, where: Any) -> list[Checkpoint]:
    return list(
        session.scalars(
            select(Checkpoint)
            .where(where)
            .options(
                selectinload(Checkpoint.receipt).selectinload(AnchorReceipt.batch),
                selectinload(Checkpoint.lots),
            )
        ).unique()
    )


def _chain_of(head: str | None, prev_of: dict[str, str | None]) -> list[str]:
    """The lot's events from first to head, following the stored links back from the head."""
    chain: list[str] = []
    current = head
    while current is not None and current not in chain:
        chain.append(current)
        current = prev_of.get(current)
    return chain[::-1]


def build_bundle(
    session: Session,
    subject: dict[str, Any],
    roots: list[str],
    *,
    chain_id: int,
    contract_address: str,
    recall_ids: tuple[int, ...] = (),
) -> dict[str, Any]:
    """The bundle of the traces (both directions) of `roots`, plus the recalls named."""
    keys: set[str] = set()
    for root in roots:
        keys.update(trace(session, root, Direction.BOTH).lot_keys)
    ordered = sorted(keys)
    lots = [
        lot
        for chunk in _chunks(ordered)
        for lot in session.scalars(
            select(Lot).where(Lot.lot_key.in_(chunk)).options(selectinload(Lot.parent_edges))
        )
    ]
    links = [
        link
        for chunk in _chunks(ordered)
        for link in session.scalars(select(CheckpointLot).where(CheckpointLot.lot_key.in_(chunk)))
    ]
    digests = sorted({link.checkpoint_digest for link in links})
    events = {
        c.digest: c
        for chunk in _chunks(digests)
        for c in _checkpoints(session, Checkpoint.digest.in_(chunk))
    }
    # Events of other lots that these events name as their previous: each link resolves.
    boundary = sorted(
        {
            link.prev_digest
            for c in events.values()
            for link in c.lots
            if link.prev_digest is not None and link.prev_digest not in events
        }
    )
    for chunk in _chunks(boundary):
        events.update({c.digest: c for c in _checkpoints(session, Checkpoint.digest.in_(chunk))})

    prev_of: dict[str, dict[str, str | None]] = {}
    for link in links:
        prev_of.setdefault(link.lot_key, {})[link.checkpoint_digest] = link.prev_digest

    recalled = set(recall_ids)
    for chunk in _chunks(ordered):
        recalled.update(
            session.scalars(select(RecallLot.recall_id).where(RecallLot.lot_key.in_(chunk)))
        )
    recalls = [get_recall(session, recall_id) for recall_id in sorted(recalled)]

    owners = sorted({lot.owner_address for lot in lots})
    padded = ["0x" + "00" * 12 + owner.removeprefix("0x") for owner in owners]
    certificates: dict[str, Certificate] = {}
    for kind, subjects in ((SubjectKind.LOT, ordered), (SubjectKind.ACTOR, padded)):
        for chunk in _chunks(subjects):
            found = session.scalars(
                select(Certificate).where(
                    Certificate.subject_kind == kind, Certificate.subject.in_(chunk)
                )
            )
            certificates.update({cert.certificate_id: cert for cert in found})
    return {
        "format": FORMAT,
        "version": VERSION,
        "subject": subject,
        "generatedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "chainId": chain_id,
        "contract": to_checksum_address(contract_address),
        "lots": [
            {
                "lotKey": lot.lot_key,
                "gtin": lot.gtin,
                "lotCode": lot.lot_code,
                "productName": lot.product_name,
                "quantity": lot.quantity_milli,
                "unit": lot.unit,
                "owner": to_checksum_address(lot.owner_address),
                "detailsHash": lot.details_hash,
                "parents": [
                    {"lotKey": edge.parent_key, "quantity": edge.quantity_milli}
                    for edge in sorted(lot.parent_edges, key=lambda e: e.parent_key)
                ],
                "registration": {
                    "transactionHash": lot.tx_hash,
                    "blockNumber": lot.block_number,
                    "logIndex": lot.log_index,
                },
                "head": lot.head_digest,
                "events": _chain_of(lot.head_digest, prev_of.get(lot.lot_key, {})),
            }
            for lot in sorted(lots, key=lambda lot: lot.lot_key)
        ],
        "events": [
            receipt_document(c, chain_id=chain_id, contract_address=contract_address)
            for c in sorted(events.values(), key=lambda c: (c.event_time, c.digest))
        ],
        "recalls": [_recall(recall) for recall in recalls],
        "certificates": [_certificate(certificates[k]) for k in sorted(certificates)],
    }


def _recall(recall: Recall) -> dict[str, Any]:
    wording = (
        None
        if recall.reason is None
        else {
            "reason": recall.reason,
            "consumer": recall.instructions_consumer or "",
            "trade": recall.instructions_trade or "",
        }
    )
    return {
        "recallId": recall.recall_id,
        "issuer": to_checksum_address(recall.issuer_address),
        "recallClass": recall.recall_class,
        "status": recall.status.value,
        "voluntary": recall.voluntary,
        "reasonHash": recall.reason_hash,
        "wording": wording,
        "lots": [item.lot_key for item in recall.lots],
        "transactionHash": recall.tx_hash,
        "blockNumber": recall.block_number,
        "logIndex": recall.log_index,
    }


def _certificate(cert: Certificate) -> dict[str, Any]:
    return {
        "certificateId": cert.certificate_id,
        "issuer": to_checksum_address(cert.issuer_address),
        "subjectKind": cert.subject_kind.code,
        "subject": cert.subject,
        "kind": cert.kind.code,
        "documentHash": cert.document_hash,
        "validFrom": _unix(cert.valid_from),
        "validUntil": _unix(cert.valid_until),
        "revoked": cert.revoked,
        "transactionHash": cert.tx_hash,
        "blockNumber": cert.block_number,
        "logIndex": cert.log_index,
    }


def lot_bundle(
    session: Session, lot_key: str, *, chain_id: int, contract_address: str
) -> dict[str, Any]:
    return build_bundle(
        session,
        {"kind": "lot", "lotKey": lot_key},
        [lot_key],
        chain_id=chain_id,
        contract_address=contract_address,
    )


def recall_bundle(
    session: Session, recall_id: int, *, chain_id: int, contract_address: str
) -> dict[str, Any]:
    recall = get_recall(session, recall_id)
    return build_bundle(
        session,
        {"kind": "recall", "recallId": recall_id},
        [item.lot_key for item in recall.lots],
        chain_id=chain_id,
        contract_address=contract_address,
        recall_ids=(recall_id,),
    )
