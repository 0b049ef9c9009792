"""A history with every kind of Lotlink event, written to the chain the way actors write it,
and helpers to compare an index with another one row by row."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from fixtures.world import GLNS, World, gtin
from lotlink.chain.merkle import StandardMerkleTree
from lotlink.chain.typed_data import Authorization
from lotlink.models import (
    Actor,
    ActorRole,
    AnchorReceipt,
    AppliedLog,
    Base,
    Batch,
    Certificate,
    Checkpoint,
    CheckpointKind,
    CheckpointLot,
    IndexerCursor,
    LineageEdge,
    Lot,
    Recall,
    RecallLot,
)
from lotlink.vocabulary import CertificateKind, Role, SubjectKind

LEAF_ENCODING = ["bytes32", "bytes32", "address"]

#: Every table the chain decides, and the columns that are not the chain's (left out).
CHAIN_TABLES: dict[type[Base], tuple[str, ...]] = {
    Actor: (),
    ActorRole: (),
    Lot: (),
    LineageEdge: (),
    Certificate: (),
    Recall: (),
    RecallLot: (),
    Batch: (),
    AnchorReceipt: (),
    AppliedLog: (),
    Checkpoint: ("record_time",),
    IndexerCursor: ("updated_at",),
}


def h32(label: str) -> bytes:
    return keccak(text=label)


def hex32(label: str) -> str:
    return "0x" + h32(label).hex()


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every chain-derived row, sorted, volatile columns left out."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    with Session(engine) as session:
        for model, skip in CHAIN_TABLES.items():
            table = model.__table__
            columns = [c for c in table.columns if c.name not in skip]
            rows = session.execute(select(*columns)).all()
            result[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return result


def manifest_bytes(events: list[tuple[str, str, str]], *, chain_id: int, contract: str) -> bytes:
    """A Lotlink batch manifest (the anchorer's canonical form) for (digest, lot, signer)."""
    tree = StandardMerkleTree.of([list(e) for e in events], LEAF_ENCODING)
    document = {
        "format": "lotlink-batch-manifest",
        "version": 1,
        "chainId": chain_id,
        "contract": to_checksum_address(contract),
        "root": tree.root,
        "leafEncoding": LEAF_ENCODING,
        "eventCount": len(events),
        "events": [
            {"index": i, "digest": d, "lotKey": lot, "signer": to_checksum_address(s)}
            for i, (d, lot, s) in enumerate(events)
        ],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def add_checkpoint(
    engine: Engine, *, digest: str, lot_key: str, signer: str, prev: str | None = None
) -> None:
    """What the write path stores for an accepted event (before any anchor)."""
    with Session(engine) as session, session.begin():
        session.add(
            Checkpoint(
                digest=digest,
                event_id=f"ni:///sha-256;{digest[2:]}?ver=CBV2.0",
                epcis_json=json.dumps({"digest": digest}),
                event_type="ObjectEvent",
                kind=CheckpointKind.INSPECTED,
                event_time=datetime(2026, 3, 1, 8, 30, tzinfo=UTC),
                event_time_offset="+01:00",
                primary_lot_key=lot_key,
                signer_address=signer,
                signature="0x" + "ab" * 65,
                lots=[CheckpointLot(lot_key=lot_key, prev_digest=prev)],
            )
        )


@dataclass
class History:
    """Keys of what `write_history` put on chain."""

    raw: str = ""
    other: str = ""
    child: str = ""
    certificate: str = ""
    recall: int = 0
    direct_digest: str = ""
    batch_root: str = ""
    batch_digests: list[str] = field(default_factory=list)


def write_lots(world: World, tag: str = "A") -> History:
    """Two raw lots and a child made of both, with quantities."""
    history = History()
    raw = world.register_lot(gtin("0952123400001"), f"RAW{tag}")
    other = world.register_lot(gtin("0952123400002"), f"OTH{tag}")
    child = world.register_lot(
        gtin("0952123400003"), f"MIX{tag}", parents=[raw, other], quantities=[1500, 250]
    )
    history.raw, history.other, history.child = ("0x" + k.hex() for k in (raw, other, child))
    return history


def write_rest(world: World, history: History, *, manifests: Path | None) -> None:
    """Profiles, roles, certificates, recalls and anchors on top of `write_lots`."""
    supplier, inspector = world.actors[Role.SUPPLIER], world.actors[Role.INSPECTOR]
    certifier, regulator = world.actors[Role.CERTIFIER], world.actors[Role.REGULATOR]
    anchorer = world.actors[Role.ANCHORER]
    world.send(
        "updateActorProfile", supplier.address, GLNS[Role.SUPPLIER], h32("profile-2"), by=supplier
    )
    world.lotlink.transact("grantRole", Role.CARRIER.id, inspector.address, sender=world.admin)
    world.lotlink.transact("revokeRole", Role.CARRIER.id, inspector.address, sender=world.admin)
    world.lotlink.transact("grantRole", Role.CARRIER.id, supplier.address, sender=world.admin)

    now = world.now()
    issue = (SubjectKind.LOT.code, bytes.fromhex(history.child[2:]),
             CertificateKind.CERTIFICATE_OF_ANALYSIS.code, h32("coa.pdf"), now - 10, now + 86400)  # fmt: skip
    receipt = world.send("issueCertificate", issue, by=certifier)
    history.certificate = (
        "0x" + world.lotlink.events(receipt, "CertificateIssued")[0]["certificateId"].hex()
    )
    second = (SubjectKind.ACTOR.code, bytes(12) + bytes.fromhex(supplier.address[2:]),
              CertificateKind.ISO9001.code, h32("iso.pdf"), now - 10, now + 3 * 86400)  # fmt: skip
    receipt = world.send("issueCertificate", second, by=certifier)
    revoked = world.lotlink.events(receipt, "CertificateIssued")[0]["certificateId"]
    world.send("revokeCertificate", revoked, h32("withdrawn"), by=certifier)

    raw = bytes.fromhex(history.raw[2:])
    receipt = world.send("issueRecall", [raw], 2, h32("salmonella"), by=regulator)
    history.recall = int(world.lotlink.events(receipt, "RecallIssued")[0]["recallId"])
    world.send("updateRecall", history.recall, 1, h32("salmonella-confirmed"), by=regulator)
    receipt = world.send("issueRecall", [raw], 3, h32("label"), by=supplier)
    closed = int(world.lotlink.events(receipt, "RecallIssued")[0]["recallId"])
    world.send("closeRecall", closed, h32("relabelled"), by=supplier)

    history.direct_digest = hex32("direct-event")
    world.send(
        "recordCheckpoint",
        h32("direct-event"),
        raw,
        CheckpointKind.INSPECTED.code,
        by=inspector,
    )
    events = [(hex32(f"batched-{i}"), history.child, supplier.address.lower()) for i in range(3)]
    history.batch_digests = [d for d, _, _ in events]
    content = manifest_bytes(
        events, chain_id=world.lotlink.chain_id, contract=world.lotlink.address
    )
    manifest_hash = keccak(content)
    tree = StandardMerkleTree.of([list(e) for e in events], LEAF_ENCODING)
    history.batch_root = tree.root
    if manifests is not None:
        manifests.mkdir(parents=True, exist_ok=True)
        (manifests / f"0x{manifest_hash.hex()}.json").write_bytes(content)
    world.lotlink.transact(
        "anchorBatch",
        bytes.fromhex(tree.root[2:]),
        manifest_hash,
        len(events),
        "",
        Authorization.direct().as_tuple(),
        sender=anchorer,
    )
