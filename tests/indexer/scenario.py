"""A history with every kind of Lotlink event, written to the chain the way actors write it,
and helpers to compare an index with another one row by row."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from eth_utils import keccak
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from fixtures.world import GLNS, World, gtin
from lotlink.anchoring.manifest import (
    Manifest,
    ManifestEvent,
    ManifestLot,
    ManifestStore,
    build_manifest,
)
from lotlink.chain.typed_data import Authorization, sign_typed
from lotlink.epcis.build import (
    CONTEXT,
    CheckpointSpec,
    LotRef,
    QuantityLine,
    build_event,
    digest_of,
    finish_event,
    stored_document,
)
from lotlink.indexer.rebuild import check_event
from lotlink.models import (
    Actor,
    ActorRole,
    AnchorReceipt,
    AppliedLog,
    Base,
    Batch,
    Certificate,
    Checkpoint,
    CheckpointDocument,
    CheckpointKind,
    CheckpointLot,
    CheckpointStatus,
    IndexerCursor,
    LineageEdge,
    Lot,
    OutboxEntry,
    Recall,
    RecallLot,
)
from lotlink.vocabulary import CertificateKind, Role, SubjectKind

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


#: What an index rebuilt from the chain and the manifests must hold exactly as the live one
#: does, and the columns only the write path or the anchorer knows (left out): actors' names
#: and custody, lots' product names, when rows were written, the anchorer's sending state.
REBUILT_TABLES: dict[type[Base], tuple[str, ...]] = {
    Actor: ("name", "custody", "keystore_path", "created_at"),
    ActorRole: (),
    Lot: ("product_name", "created_at"),
    LineageEdge: (),
    Checkpoint: (),
    CheckpointLot: (),
    CheckpointDocument: (),
    Batch: ("tx_nonce", "attempts", "last_error", "created_at", "sent_at"),
    AnchorReceipt: ("created_at",),
    AppliedLog: (),
}


def h32(label: str) -> bytes:
    return keccak(text=label)


def hex32(label: str) -> str:
    return "0x" + h32(label).hex()


def snapshot(
    engine: Engine, tables: dict[type[Base], tuple[str, ...]] = CHAIN_TABLES
) -> dict[str, list[tuple[Any, ...]]]:
    """Every chain-derived row, sorted, volatile columns left out."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    with Session(engine) as session:
        for model, skip in tables.items():
            table = model.__table__
            columns = [c for c in table.columns if c.name not in skip]
            rows = session.execute(select(*columns)).all()
            result[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return result


def signed_events(
    world: World, lot: str, *, gtin14: str, lot_code: str, count: int
) -> list[ManifestEvent]:
    """`count` inspections of one lot, each chained after the last and signed by the supplier
    over the deployment's domain, as the write path accepts them."""
    supplier = world.actors[Role.SUPPLIER]
    events: list[ManifestEvent] = []
    previous: list[bytes] = []
    for n in range(count):
        spec = CheckpointSpec(
            kind=CheckpointKind.INSPECTED, biz_step="inspecting", disposition="conformant",
            event_time=datetime(2026, 3, 1, 8, n, tzinfo=UTC),
            location_gln=str(GLNS[Role.SUPPLIER]),
            lots=[QuantityLine(LotRef.of(gtin14, lot_code), Decimal(n + 1), "KGM")],
            previous=tuple(previous),
        )  # fmt: skip
        event = build_event(spec)
        digest = digest_of(event)
        message = {"eventHash": digest, "lotKey": bytes.fromhex(lot[2:]),
                    "kind": CheckpointKind.INSPECTED.code}  # fmt: skip
        signature = sign_typed(supplier, "Checkpoint", message, world.lotlink.domain)
        recorded = datetime(2026, 3, 1, 9, n, 0, 123456, tzinfo=UTC)
        events.append(
            ManifestEvent(
                digest="0x" + digest.hex(),
                event_id=f"ni:///sha-256;{digest.hex()}?ver=CBV2.0",
                lot_key=lot,
                kind=CheckpointKind.INSPECTED,
                signer=supplier.address.lower(),
                signature="0x" + signature.hex(),
                epcis_json=stored_document(
                    finish_event(event, digest), context=CONTEXT, created=recorded
                ),
                record_time=recorded.isoformat(timespec="microseconds"),
                lots=(ManifestLot(lot, events[-1].digest if events else None, (n + 1) * 1000,
                                  "KGM"),),
            )
        )  # fmt: skip
        previous = [digest]
    return events


def anchor_manifest(world: World, manifest: Manifest, *, uri: str = "") -> None:
    """The anchorer role anchors `manifest`'s root and hash, as the anchorer would."""
    world.lotlink.transact(
        "anchorBatch",
        bytes.fromhex(manifest.root[2:]),
        bytes.fromhex(manifest.manifest_hash[2:]),
        len(manifest.events),
        uri,
        Authorization.direct().as_tuple(),
        sender=world.actors[Role.ANCHORER],
    )


def store_accepted(engine: Engine, event: ManifestEvent, world: World) -> None:
    """What the write path stores for an accepted event before any anchor: its rows, pending,
    and its outbox entry."""
    rebuilt = check_event(event, domain=world.lotlink.domain)
    with Session(engine) as session, session.begin():
        session.add(
            Checkpoint(
                **{**rebuilt.checkpoint, "status": CheckpointStatus.PENDING},
                lots=[CheckpointLot(lot_key=x.lot_key, prev_digest=x.previous,
                                    quantity_milli=x.quantity_milli, unit=x.unit)
                      for x in rebuilt.links],
            )
        )  # fmt: skip
        session.flush()
        session.add(OutboxEntry(event_digest=rebuilt.digest))
        lot = session.get(Lot, event.lot_key)
        assert lot is not None
        lot.head_digest = rebuilt.digest


def add_checkpoint(
    engine: Engine, *, digest: str, lot_key: str, signer: str, prev: str | None = None
) -> None:
    """An accepted event's row with a made-up document (for a direct record of a digest)."""
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
    batch_events: list[ManifestEvent] = field(default_factory=list)
    tag: str = "A"

    @property
    def child_ref(self) -> tuple[str, str]:
        """The child lot's GTIN-14 and lot code."""
        return gtin("0952123400003"), f"MIX{self.tag}"


def write_lots(world: World, tag: str = "A") -> History:
    """Two raw lots and a child made of both, with quantities."""
    history = History(tag=tag)
    raw = world.register_lot(gtin("0952123400001"), f"RAW{tag}")
    other = world.register_lot(gtin("0952123400002"), f"OTH{tag}")
    child = world.register_lot(*history.child_ref, parents=[raw, other], quantities=[1500, 250])
    history.raw, history.other, history.child = ("0x" + k.hex() for k in (raw, other, child))
    return history


def write_rest(world: World, history: History, *, manifests: Path | None) -> None:
    """Profiles, roles, certificates, recalls and anchors on top of `write_lots`."""
    supplier, inspector = world.actors[Role.SUPPLIER], world.actors[Role.INSPECTOR]
    certifier, regulator = world.actors[Role.CERTIFIER], world.actors[Role.REGULATOR]
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
    gtin14, lot_code = history.child_ref
    events = signed_events(world, history.child, gtin14=gtin14, lot_code=lot_code, count=3)
    history.batch_events = events
    history.batch_digests = [e.digest for e in events]
    manifest = build_manifest(
        events, chain_id=world.lotlink.chain_id, contract_address=world.lotlink.address
    )
    history.batch_root = manifest.root
    if manifests is not None:
        ManifestStore(manifests).write(manifest)
    anchor_manifest(world, manifest)
