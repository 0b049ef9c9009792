"""Every model survives a round trip through each backend with its values, types and instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from db.builders import address, h32, make_actor, make_checkpoint, make_lot
from lotlink.models import (
    Actor,
    AnchorReceipt,
    AnchorTransaction,
    ApiToken,
    AppliedLog,
    Batch,
    BatchStatus,
    Certificate,
    CertificateKind,
    Checkpoint,
    CheckpointDocument,
    CheckpointKind,
    CheckpointStatus,
    Custody,
    Document,
    IndexedBlock,
    IndexerCursor,
    LineageEdge,
    Lot,
    ManifestStatus,
    OutboxEntry,
    OutboxState,
    Recall,
    RecallLot,
    RecallStatus,
    Role,
    SubjectKind,
)

T0 = datetime(2026, 3, 1, 8, 30, 0, 123000, tzinfo=UTC)
# uint256 quantities are thousandths; BIGINT's ceiling is the largest the index holds.
BIGINT_MAX = 2**63 - 1


def test_actor_roles_and_tokens(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        actor = make_actor(1, role=Role.SUPPLIER)
        actor.custody = Custody.CUSTODIAL
        actor.keystore_path = "var/keys/0x01.json"
        actor.profile_hash = h32("profile")
        actor.roles.append(actor.roles[0].__class__(role=Role.INSPECTOR, block_number=7))
        actor.api_tokens.append(ApiToken(token_hash="f" * 64, prefix="llk_abc", label="ci"))
        session.add(actor)

    with sessions() as session:
        stored = session.get_one(Actor, address(1))
        assert stored.custody is Custody.CUSTODIAL
        assert {role.role for role in stored.roles} == {Role.SUPPLIER, Role.INSPECTOR}
        assert stored.api_tokens[0].token_hash == "f" * 64
        assert stored.api_tokens[0].created_at.tzinfo is UTC
        assert stored.gln == "0000000000001"


def test_lot_with_lineage_and_hex_normalised(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        session.add(make_actor(1))
        milk = make_lot("MILK-1", owner=address(1))
        session.add(milk)
        session.flush()
        formula = make_lot("F-1", owner=address(1).upper().replace("0X", "0x"))
        formula.quantity_milli = BIGINT_MAX
        formula.block_number, formula.tx_hash, formula.log_index = 12, h32("tx").upper(), 3
        formula.parent_edges.append(
            LineageEdge(parent_key=milk.lot_key, quantity_milli=250_500, unit="KGM")
        )
        session.add(formula)

    with sessions() as session:
        # A bytes32 given as bytes finds the row stored from hex text.
        formula_key = bytes.fromhex(h32("lot:09506000134352:F-1")[2:])
        stored = session.scalars(select(Lot).where(Lot.lot_key == formula_key)).one()
        assert stored.quantity_milli == BIGINT_MAX
        assert stored.tx_hash == h32("tx")
        assert [(e.parent.lot_code, e.quantity_milli) for e in stored.parent_edges] == [
            ("MILK-1", 250_500)
        ]
        by_gtin = session.scalars(
            select(Lot).where(Lot.gtin == "09506000134352", Lot.lot_code == "MILK-1")
        ).one()
        assert by_gtin.lot_key == h32("lot:09506000134352:MILK-1")


def test_checkpoint_with_documents_outbox_batch_and_receipt(
    sessions: sessionmaker[Session],
) -> None:
    lot = make_lot("L-1", owner=address(1))
    checkpoint = make_checkpoint("e1", lot=lot, signer=address(1))
    checkpoint.event_time = datetime(
        2026, 3, 1, 9, 30, 0, 123000, tzinfo=timezone(timedelta(hours=1))
    )
    checkpoint.location_gln = "9506000000001"
    checkpoint.documents.append(CheckpointDocument(document_sha256=h32("report.pdf")))
    root = h32("root")
    with sessions.begin() as session:
        session.add_all([make_actor(1), lot, checkpoint])
        session.add(
            Document(sha256=h32("report.pdf"), media_type="application/pdf", size_bytes=1234)
        )
        session.add(Batch(root=root, manifest_hash=h32("manifest"), event_count=1))
        session.flush()
        session.add(OutboxEntry(event_digest=checkpoint.digest, batch_root=root))
        session.add(AnchorTransaction(tx_hash=h32("tx1"), batch_root=root, nonce=5))
        session.add(
            AnchorReceipt(
                event_digest=checkpoint.digest,
                leaf=h32("leaf"),
                proof=[h32("sibling-1"), h32("sibling-2")],
                root=root,
                batch_root=root,
                tx_hash=h32("tx1"),
                block_number=42,
                log_index=0,
            )
        )

    with sessions() as session:
        stored = session.get_one(Checkpoint, checkpoint.digest)
        assert stored.event_time == T0  # 09:30+01:00 is 08:30 UTC, returned as UTC
        assert stored.event_time.tzinfo is UTC
        assert stored.event_time_offset == "+01:00"
        assert stored.kind is CheckpointKind.INSPECTED and stored.kind.code == 1
        assert stored.status is CheckpointStatus.PENDING
        assert stored.lots[0].prev_digest is None
        assert [d.document_sha256 for d in stored.documents] == [h32("report.pdf")]
        assert stored.receipt is not None
        assert stored.receipt.as_dict()["proof"] == [h32("sibling-1"), h32("sibling-2")]
        outbox = session.scalars(select(OutboxEntry)).one()
        assert outbox.state is OutboxState.QUEUED
        batch = session.get_one(Batch, root)
        assert batch.status is BatchStatus.BUILT
        assert batch.manifest_status is ManifestStatus.PENDING
        assert [t.nonce for t in batch.transactions] == [5]


def test_certificate_and_recall(sessions: sessionmaker[Session]) -> None:
    lot = make_lot("L-1", owner=address(1))
    with sessions.begin() as session:
        session.add_all([make_actor(1), lot])
        session.add(
            Certificate(
                certificate_id=h32("cert"),
                issuer_address=address(2),
                subject_kind=SubjectKind.from_code(1),
                subject=lot.lot_key,
                kind=CertificateKind.from_code(3),
                document_hash=h32("coa.pdf"),
                valid_from=T0,
                valid_until=None,
                block_number=9,
            )
        )
        recall = Recall(
            recall_id=2**40,
            issuer_address=address(3),
            recall_class=1,
            reason_hash=h32("reason"),
            reason="Salmonella found in retained sample",
            voluntary=False,
            issued_at=T0,
        )
        recall.lots.append(RecallLot(lot_key=lot.lot_key, block_number=10, log_index=1))
        session.add(recall)

    with sessions() as session:
        certificate = session.get_one(Certificate, h32("cert"))
        assert certificate.kind is CertificateKind.CERTIFICATE_OF_ANALYSIS
        assert certificate.subject_kind is SubjectKind.LOT
        assert certificate.revoked is False
        assert certificate.valid_from == T0
        recall = session.get_one(Recall, 2**40)
        assert recall.status is RecallStatus.ACTIVE
        assert [link.lot_key for link in recall.lots] == [lot.lot_key]


def test_indexer_state(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        session.add(IndexerCursor(name="main", block_number=100, block_hash=h32("b100")))
        session.flush()
        session.add(
            IndexedBlock(cursor_name="main", number=100, hash=h32("b100"), parent_hash=h32("b99"))
        )
        session.add(
            AppliedLog(
                tx_hash=h32("tx"),
                log_index=4,
                block_number=100,
                block_hash=h32("b100"),
                contract_address=address(99),
                event_name="LotRegistered",
            )
        )

    with sessions() as session:
        cursor = session.get_one(IndexerCursor, "main")
        assert (cursor.block_number, cursor.block_hash) == (100, h32("b100"))
        assert cursor.updated_at.tzinfo is UTC
        assert session.get_one(IndexedBlock, ("main", 100)).parent_hash == h32("b99")
        assert session.get_one(AppliedLog, (h32("tx"), 4)).event_name == "LotRegistered"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lot_key", "0x1234", "must be 32 bytes"),
        ("lot_key", "0x" + "zz" * 32, "not hex"),
        ("owner_address", "0x" + "11" * 32, "must be 20 bytes"),
        ("created_at", datetime(2026, 1, 1), "timezone-aware"),
    ],
)
def test_malformed_values_are_refused(
    sessions: sessionmaker[Session], field: str, value: object, message: str
) -> None:
    with sessions.begin() as session:
        session.add(make_actor(1))
    lot = make_lot("L-1", owner=address(1))
    setattr(lot, field, value)
    with sessions() as session, pytest.raises(StatementError, match=message):
        session.add(lot)
        session.flush()
