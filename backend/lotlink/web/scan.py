"""What a scan page shows, read from the index: the lot, its recalls (inherited too), its
journey with a verdict per step, its certificates with theirs, its source lots, and the
evidence a browser needs to check it all again without us.

Evidence shape (``<script type="application/json" id="lotlink-evidence">`` on the page; the
in-browser verifier, ``/static/verify/verify.js``, reads exactly this)::

    {"chainId": int, "contract": "0x…" (checksummed), "rpcUrl": str, "confirmations": int,
     "events": [{"digest": "0x…", "eventId": "ni:///…", "epcisDocument": {…the stored one-event
                 EPCISDocument, parsed…}, "signer": "0x…", "signature": "0x…",
                 "kind": "produced|inspected|shipped|received|transformed", "lotKey": "0x…",
                 "receipt": {"leaf": "0x…", "proof": ["0x…"], "root": "0x…", "txHash": "0x…",
                             "blockNumber": int, "logIndex": int, "mode": "batch"|"direct"}
                            or null while pending}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import select
from sqlalchemy.orm import Session

from lotlink.chain.typed_data import Domain
from lotlink.config import Settings
from lotlink.gs1.digital_link import DigitalLink
from lotlink.indexer.derived import lot_journey, recall_status, validity_of
from lotlink.models import (
    Actor,
    ActorRole,
    Certificate,
    Checkpoint,
    Document,
    Lot,
    Recall,
    SubjectKind,
)
from lotlink.models.scan import CopyRule
from lotlink.services.certificate_watch import shipment_lapses
from lotlink.services.copies import not_commissioned, serials_in
from lotlink.services.documents import blob_path
from lotlink.services.scans import copy_flags
from lotlink.services.scorecards import grades
from lotlink.vocabulary import CertificateKind, CheckpointKind
from lotlink.web.templating import day
from lotlink.web.verification import Check, check_document, check_step

CLASS_LABELS = {1: "Class I", 2: "Class II", 3: "Class III"}
CLASS_MEANING = {
    1: "a serious risk to health",
    2: "a possible, temporary risk to health",
    3: "unlikely to harm health, but not compliant",
}
DEFAULT_ADVICE = {
    1: "Do not eat, drink or use it. Return it to where you bought it for a refund, or throw "
    "it away. If you feel unwell, contact a doctor.",
    2: "Do not eat, drink or use it. Return it to where you bought it for a refund.",
    3: "Return it to where you bought it for a refund or an exchange.",
}
CERTIFICATE_LABELS = {
    CertificateKind.ISO9001: "ISO 9001 certificate",
    CertificateKind.PRODUCTION_LICENCE: "Production licence",
    CertificateKind.INSPECTION_REPORT: "Inspection report",
    CertificateKind.CERTIFICATE_OF_ANALYSIS: "Certificate of analysis",
    CertificateKind.OTHER: "Certificate",
}
_RESULT_WORDS = {
    "conformant": "passed",
    "non_conformant": "did not pass",
    "damaged": "found damaged",
}


@dataclass(frozen=True, slots=True)
class LotLabel:
    gtin: str
    lot_code: str
    product_name: str | None
    url: str

    @classmethod
    def of(cls, lot: Lot) -> LotLabel:
        path = DigitalLink(gtin=lot.gtin, lot=lot.lot_code).path
        return cls(lot.gtin, lot.lot_code, lot.product_name, path)


@dataclass(frozen=True, slots=True)
class RecallView:
    recall_id: int
    class_label: str
    class_meaning: str
    reason: str
    advice: str
    since: datetime
    via: LotLabel | None  # the ancestor lot the recall names, when inherited


@dataclass(frozen=True, slots=True)
class StepView:
    digest: str
    kind: str
    title: str
    detail: str
    who: str
    role: str
    where: str
    when: datetime
    offset: str
    check: Check
    receipt_url: str


@dataclass(frozen=True, slots=True)
class CertificateView:
    title: str
    about: str
    issuer: str
    valid_from: datetime
    valid_until: datetime | None
    validity: str
    download_url: str | None
    check: Check


@dataclass(frozen=True, slots=True)
class SupplierGrade:
    """The supplier's current grade and its scorecard page."""

    grade: str
    url: str


@dataclass(frozen=True, slots=True)
class CopyNotice:
    """Why this serial's code may be a copy, in plain words (one line per rule that fired)."""

    reasons: list[str]


@dataclass
class ScanView:
    link: DigitalLink
    lot: Lot
    owner: str
    recalls: list[RecallView]
    steps: list[StepView]
    certificates: list[CertificateView]
    sources: list[LotLabel]
    evidence: dict[str, Any] = field(default_factory=dict)
    copy: CopyNotice | None = None
    grade: SupplierGrade | None = None
    lapses: list[str] = field(default_factory=list)

    @property
    def all_verified(self) -> bool:
        return all(step.check.verified for step in self.steps)

    @property
    def failed(self) -> list[StepView]:
        return [s for s in self.steps if s.check.verdict == "failed"]


def _actors(session: Session, addresses: set[str], glns: set[str]) -> dict[str, Actor]:
    """Actors by address and by GLN (one query)."""
    if not addresses and not glns:
        return {}
    rows = session.scalars(
        select(Actor).where(Actor.address.in_(addresses) | Actor.gln.in_(glns))
    ).all()
    found: dict[str, Actor] = {}
    for actor in rows:
        found[actor.address] = actor
        if actor.gln:
            found.setdefault(actor.gln, actor)
    return found


def _roles(session: Session, addresses: set[str]) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {}
    rows = session.execute(
        select(ActorRole.actor_address, ActorRole.role).where(
            ActorRole.actor_address.in_(addresses), ActorRole.block_number.is_not(None)
        )
    )
    for address, role in rows:
        roles.setdefault(address, []).append(str(role))
    return roles


def _title(checkpoint: Checkpoint, lot_key: str, event: dict[str, Any]) -> tuple[str, str]:
    kind = checkpoint.kind
    if kind is CheckpointKind.PRODUCED:
        return "Produced", ""
    if kind is CheckpointKind.INSPECTED:
        result = _RESULT_WORDS.get(checkpoint.disposition or "", checkpoint.disposition or "")
        return "Inspected", f"Result: {result}" if result else ""
    if kind is CheckpointKind.SHIPPED:
        return "Shipped", ""
    if kind is CheckpointKind.RECEIVED:
        return "Received", ""
    if checkpoint.primary_lot_key == lot_key:
        count = len(event.get("inputQuantityList") or [])
        return "Made", f"from {count} source lot{'s' if count != 1 else ''}"
    return "Processed", "into another product"


def _place(gln: str | None, actors: dict[str, Actor]) -> str:
    if not gln:
        return "not stated"
    actor = actors.get(gln)
    return f"{actor.name} (GLN {gln})" if actor and actor.name else f"GLN {gln}"


def build_scan_view(
    session: Session,
    lot: Lot,
    link: DigitalLink,
    *,
    settings: Settings,
    domain: Domain | None,
    chain_id: int,
    contract: str,
) -> ScanView:
    """Everything the scan page of `lot` shows, from the index."""
    journey = lot_journey(session, lot.lot_key)
    addresses = {step.checkpoint.signer_address for step in journey} | {lot.owner_address}
    glns = {step.checkpoint.location_gln for step in journey if step.checkpoint.location_gln}
    actors = _actors(session, addresses, glns)
    roles = _roles(session, addresses)

    steps: list[StepView] = []
    events: list[dict[str, Any]] = []
    parsed: list[dict[str, Any]] = []
    for item in journey:
        checkpoint, receipt = item.checkpoint, item.receipt
        try:
            document = json.loads(checkpoint.epcis_json)
            event = document["epcisBody"]["eventList"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            document, event = None, {}
        parsed.append(event)
        title, detail = _title(checkpoint, lot.lot_key, event)
        signer = actors.get(checkpoint.signer_address)
        steps.append(
            StepView(
                digest=checkpoint.digest,
                kind=str(checkpoint.kind),
                title=title,
                detail=detail,
                who=(signer.name if signer and signer.name else None)
                or to_checksum_address(checkpoint.signer_address),
                role=", ".join(sorted(roles.get(checkpoint.signer_address, []))) or "no role",
                where=_place(checkpoint.location_gln, actors),
                when=checkpoint.event_time,
                offset=checkpoint.event_time_offset,
                check=check_step(session, checkpoint, receipt, domain=domain),
                receipt_url=f"/api/v1/checkpoints/{checkpoint.digest}/receipt",
            )
        )
        anchored = receipt is not None and checkpoint.status == "anchored"
        events.append(
            {
                "digest": checkpoint.digest,
                "eventId": checkpoint.event_id,
                "epcisDocument": document,
                "signer": to_checksum_address(checkpoint.signer_address),
                "signature": checkpoint.signature,
                "kind": str(checkpoint.kind),
                "lotKey": checkpoint.primary_lot_key,
                "receipt": None
                if not anchored or receipt is None
                else {
                    "leaf": receipt.leaf,
                    "proof": list(receipt.proof),
                    "root": receipt.root,
                    "txHash": receipt.tx_hash,
                    "blockNumber": receipt.block_number,
                    "logIndex": receipt.log_index,
                    "mode": "batch" if receipt.batch_root is not None else "direct",
                },
            }
        )

    owner = actors.get(lot.owner_address)
    return ScanView(
        link=link,
        lot=lot,
        owner=(owner.name if owner and owner.name else None)
        or to_checksum_address(lot.owner_address),
        recalls=recall_views(session, lot.lot_key),
        steps=steps,
        certificates=certificate_views(session, lot, settings=settings),
        sources=[LotLabel.of(edge.parent) for edge in lot.parent_edges],
        copy=copy_notice(session, lot, link.serial, parsed),
        lapses=[
            f"Shipped on {day(found.checkpoint.event_time)} while {found.lapse.words}."
            for found in shipment_lapses(session, lot, [step.checkpoint for step in journey])
        ],
        grade=None
        if owner is None or not owner.gln
        else SupplierGrade(grades.grade(session, owner), f"/suppliers/{owner.gln}"),
        evidence={
            "chainId": chain_id,
            "contract": to_checksum_address(contract),
            "rpcUrl": settings.effective_public_rpc_url,
            "confirmations": settings.confirmations,
            "events": events,
        },
    )


def copy_notice(
    session: Session, lot: Lot, serial: str | None, events: list[dict[str, Any]]
) -> CopyNotice | None:
    """Why `serial` may be a copy: the flags stored for it, and (at once, before any flag is
    stored) whether the lot's record, which this page is built from, never names it."""
    if serial is None:
        return None
    flags = copy_flags(session, lot.lot_key, serial)
    reasons = [flag.reason for flag in flags]
    if not any(flag.rule is CopyRule.NOT_COMMISSIONED for flag in flags):
        recorded = serials_in(events, gtin=lot.gtin, lot_code=lot.lot_code)
        if (signal := not_commissioned(serial, recorded)) is not None:
            reasons.append(signal.reason)
    return CopyNotice([r[:1].upper() + r[1:] + "." for r in reasons]) if reasons else None


def recall_views(session: Session, lot_key: str) -> list[RecallView]:
    """The active recalls reaching `lot_key`, most severe first, in plain words."""
    status = recall_status(session, lot_key)
    if not status.recalled:
        return []
    recalls = {
        r.recall_id: r
        for r in session.scalars(
            select(Recall).where(Recall.recall_id.in_([v.recall_id for v in status.recalls]))
        )
    }
    via_lots = {
        lot.lot_key: lot
        for lot in session.scalars(
            select(Lot).where(Lot.lot_key.in_([v.recalled_lot for v in status.recalls]))
        )
    }
    views = []
    seen: set[int] = set()
    for item in status.recalls:
        if item.recall_id in seen:
            continue
        seen.add(item.recall_id)
        recall = recalls[item.recall_id]
        via = via_lots.get(item.recalled_lot) if item.inherited else None
        views.append(
            RecallView(
                recall_id=item.recall_id,
                class_label=CLASS_LABELS.get(item.recall_class, f"Class {item.recall_class}"),
                class_meaning=CLASS_MEANING.get(item.recall_class, ""),
                reason=recall.reason or "The reason was recorded on the blockchain as a hash only.",
                advice=recall.instructions_consumer
                or DEFAULT_ADVICE.get(item.recall_class, DEFAULT_ADVICE[1]),
                since=recall.issued_at,
                via=None if via is None else LotLabel.of(via),
            )
        )
    return views


def certificate_views(session: Session, lot: Lot, *, settings: Settings) -> list[CertificateView]:
    """Certificates about the lot and about its supplier, each checked against its anchor."""
    owner_subject = "0x" + "00" * 12 + lot.owner_address.removeprefix("0x")
    certificates = session.scalars(
        select(Certificate)
        .where(
            ((Certificate.subject_kind == SubjectKind.LOT) & (Certificate.subject == lot.lot_key))
            | (
                (Certificate.subject_kind == SubjectKind.ACTOR)
                & (Certificate.subject == owner_subject)
            )
        )
        .order_by(Certificate.valid_from.desc())
    ).all()
    if not certificates:
        return []
    hashes = {c.document_hash for c in certificates}
    issuers = _actors(session, {c.issuer_address for c in certificates}, set())
    stored = {
        d.sha256 for d in session.scalars(select(Document).where(Document.sha256.in_(hashes)))
    }
    views = []
    for certificate in certificates:
        hex_hash = certificate.document_hash.removeprefix("0x")
        present = certificate.document_hash in stored
        issuer = issuers.get(certificate.issuer_address)
        views.append(
            CertificateView(
                title=CERTIFICATE_LABELS.get(certificate.kind, "Certificate"),
                about="this lot" if certificate.subject_kind == SubjectKind.LOT else "the supplier",
                issuer=(issuer.name if issuer and issuer.name else None)
                or to_checksum_address(certificate.issuer_address),
                valid_from=certificate.valid_from,
                valid_until=certificate.valid_until,
                validity=str(validity_of(certificate)),
                download_url=f"/api/v1/documents/{hex_hash}" if present else None,
                check=check_document(
                    blob_path(settings, hex_hash) if present else None, certificate.document_hash
                ),
            )
        )
    return views


def product_lots(session: Session, gtin: str, *, limit: int = 200) -> list[LotLabel]:
    """The registered lots of a GTIN, newest first."""
    lots = session.scalars(
        select(Lot).where(Lot.gtin == gtin).order_by(Lot.created_at.desc()).limit(limit)
    )
    return [LotLabel.of(lot) for lot in lots]
