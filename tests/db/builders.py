"""Small builders for valid rows, so each test states only what it is about."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from lotlink.models import Actor, ActorRole, Checkpoint, CheckpointKind, CheckpointLot, Lot, Role


def h32(label: str) -> str:
    """A deterministic bytes32 as 0x-hex, different for each label."""
    return "0x" + hashlib.sha256(label.encode()).hexdigest()


def address(n: int) -> str:
    """A deterministic address."""
    return "0x" + f"{n:040x}"


def make_actor(n: int = 1, *, role: Role = Role.SUPPLIER) -> Actor:
    actor = Actor(address=address(n), name=f"Actor {n}", gln=f"{n:013d}")
    actor.roles.append(ActorRole(role=role))
    return actor


def make_lot(code: str, *, owner: str, gtin: str = "09506000134352") -> Lot:
    return Lot(
        lot_key=h32(f"lot:{gtin}:{code}"),
        gtin=gtin,
        lot_code=code,
        product_name="Infant formula 800 g",
        quantity_milli=1_000_000,
        unit="KGM",
        owner_address=owner,
    )


def make_checkpoint(
    label: str, *, lot: Lot, signer: str, prev: str | None = None, others: tuple[Lot, ...] = ()
) -> Checkpoint:
    """A checkpoint on ``lot`` (and ``others``, as first events), chained after ``prev``."""
    digest = h32(f"event:{label}")
    checkpoint = Checkpoint(
        digest=digest,
        event_id=f"ni:///sha-256;{digest[2:]}?ver=CBV2.0",
        epcis_json=json.dumps({"type": "ObjectEvent", "label": label}, sort_keys=True),
        event_type="ObjectEvent",
        kind=CheckpointKind.INSPECTED,
        event_time=datetime(2026, 3, 1, 8, 30, 0, 123000, tzinfo=UTC),
        event_time_offset="+01:00",
        primary_lot_key=lot.lot_key,
        signer_address=signer,
        signature="0x" + "ab" * 65,
    )
    checkpoint.lots.append(CheckpointLot(lot_key=lot.lot_key, prev_digest=prev))
    for other in others:
        checkpoint.lots.append(CheckpointLot(lot_key=other.lot_key, prev_digest=None))
    return checkpoint
