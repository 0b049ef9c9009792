"""The constraints the rest of Lotlink relies on hold in the database itself, on each backend."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db.builders import address, h32, make_actor, make_checkpoint, make_lot
from lotlink.models import (
    Actor,
    ActorRole,
    AnchorReceipt,
    ApiToken,
    AppliedLog,
    Checkpoint,
    CheckpointLot,
    LineageEdge,
    Lot,
    OutboxEntry,
    Recall,
)

SUPPLIER = address(1)


@pytest.fixture
def lot(sessions: sessionmaker[Session]) -> Lot:
    """A registered supplier and one of its lots."""
    lot = make_lot("L-1", owner=SUPPLIER)
    with sessions.begin() as session:
        session.add_all([make_actor(1), lot])
    return lot


def _count(sessions: sessionmaker[Session], model: type, *where: object) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _rejected(sessions: sessionmaker[Session], *rows: object) -> None:
    """Adding ``rows`` violates a constraint and leaves nothing behind."""
    with sessions() as session, pytest.raises(IntegrityError):
        session.add_all(rows)
        session.commit()


def test_duplicate_lot_key_is_rejected(sessions: sessionmaker[Session], lot: Lot) -> None:
    _rejected(sessions, make_lot("L-1", owner=SUPPLIER))


def test_duplicate_gtin_and_lot_code_is_rejected(sessions: sessionmaker[Session], lot: Lot) -> None:
    twin = make_lot("L-1", owner=SUPPLIER)
    twin.lot_key = h32("another key")
    _rejected(sessions, twin)


def test_lot_needs_a_known_owner(sessions: sessionmaker[Session]) -> None:
    # On SQLite this holds only because the engine turns foreign_keys on.
    _rejected(sessions, make_lot("L-9", owner=address(404)))


def test_duplicate_outbox_digest_is_rejected(sessions: sessionmaker[Session], lot: Lot) -> None:
    checkpoint = make_checkpoint("e1", lot=lot, signer=SUPPLIER)
    with sessions.begin() as session:
        session.add(checkpoint)
        session.flush()
        session.add(OutboxEntry(event_digest=checkpoint.digest))
    _rejected(sessions, OutboxEntry(event_digest=checkpoint.digest.upper().replace("0X", "0x")))
    assert _count(sessions, OutboxEntry) == 1


def test_duplicate_applied_log_is_rejected(sessions: sessionmaker[Session]) -> None:
    def applied() -> AppliedLog:
        return AppliedLog(
            tx_hash=h32("tx"),
            log_index=3,
            block_number=10,
            block_hash=h32("b10"),
            contract_address=address(99),
            event_name="LotRegistered",
        )

    with sessions.begin() as session:
        session.add(applied())
    _rejected(sessions, applied())


def test_lineage_edge_needs_known_parent_and_parent_cannot_vanish(
    sessions: sessionmaker[Session], lot: Lot
) -> None:
    child = make_lot("C-1", owner=SUPPLIER)
    child.parent_edges.append(LineageEdge(parent_key=h32("unknown"), quantity_milli=1, unit="KGM"))
    _rejected(sessions, child)

    child = make_lot("C-1", owner=SUPPLIER)
    child.parent_edges.append(LineageEdge(parent_key=lot.lot_key, quantity_milli=1, unit="KGM"))
    with sessions.begin() as session:
        session.add(child)
    with sessions() as session, pytest.raises(IntegrityError):
        session.execute(delete(Lot).where(Lot.lot_key == lot.lot_key))
        session.commit()

    # Deleting the child (a reorg rollback of its registration) takes its edges with it.
    with sessions.begin() as session:
        session.execute(delete(Lot).where(Lot.lot_key == child.lot_key))
    assert _count(sessions, LineageEdge) == 0


def test_deleting_a_checkpoint_cascades_to_its_dependents(
    sessions: sessionmaker[Session], lot: Lot
) -> None:
    checkpoint = make_checkpoint("e1", lot=lot, signer=SUPPLIER)
    with sessions.begin() as session:
        session.add(checkpoint)
        session.flush()
        session.add(OutboxEntry(event_digest=checkpoint.digest))
        session.add(
            AnchorReceipt(
                event_digest=checkpoint.digest,
                leaf=h32("leaf"),
                proof=[],
                root=h32("leaf"),
                tx_hash=h32("tx"),
                block_number=1,
                log_index=0,
            )
        )
    with sessions.begin() as session:
        session.execute(delete(Checkpoint))  # in SQL, not through the ORM's cascades
    for model in (CheckpointLot, OutboxEntry, AnchorReceipt):
        assert _count(sessions, model) == 0


def test_deleting_an_actor_cascades_to_roles_and_tokens(sessions: sessionmaker[Session]) -> None:
    actor = make_actor(2)
    actor.api_tokens.append(ApiToken(token_hash="a" * 64, prefix="llk_a"))
    with sessions.begin() as session:
        session.add(actor)
    with sessions.begin() as session:
        session.execute(delete(Actor).where(Actor.address == address(2)))
    assert _count(sessions, ActorRole) == 0
    assert _count(sessions, ApiToken) == 0


class TestLotHashChain:
    """A lot's events form a chain: one first event, one successor each, links within the lot."""

    def test_a_chain_of_events_is_accepted(self, sessions: sessionmaker[Session], lot: Lot) -> None:
        e1 = make_checkpoint("e1", lot=lot, signer=SUPPLIER)
        e2 = make_checkpoint("e2", lot=lot, signer=SUPPLIER, prev=e1.digest)
        e3 = make_checkpoint("e3", lot=lot, signer=SUPPLIER, prev=e2.digest)
        with sessions.begin() as session:
            session.add(e1)
            session.flush()
            session.add(e2)
            session.flush()
            session.add(e3)
        assert _count(sessions, CheckpointLot, CheckpointLot.lot_key == lot.lot_key) == 3

    def test_a_fork_is_rejected(self, sessions: sessionmaker[Session], lot: Lot) -> None:
        e1 = make_checkpoint("e1", lot=lot, signer=SUPPLIER)
        with sessions.begin() as session:
            session.add(e1)
            session.flush()
            session.add(make_checkpoint("e2", lot=lot, signer=SUPPLIER, prev=e1.digest))
        _rejected(sessions, make_checkpoint("e2b", lot=lot, signer=SUPPLIER, prev=e1.digest))

    def test_a_second_first_event_is_rejected(
        self, sessions: sessionmaker[Session], lot: Lot
    ) -> None:
        with sessions.begin() as session:
            session.add(make_checkpoint("e1", lot=lot, signer=SUPPLIER))
        _rejected(sessions, make_checkpoint("e1b", lot=lot, signer=SUPPLIER))

    def test_a_link_to_another_lots_event_is_rejected(
        self, sessions: sessionmaker[Session], lot: Lot
    ) -> None:
        other = make_lot("L-2", owner=SUPPLIER)
        foreign = make_checkpoint("other-e1", lot=other, signer=SUPPLIER)
        with sessions.begin() as session:
            session.add_all([other, make_checkpoint("e1", lot=lot, signer=SUPPLIER)])
            session.flush()
            session.add(foreign)
        _rejected(sessions, make_checkpoint("e2", lot=lot, signer=SUPPLIER, prev=foreign.digest))

    def test_one_event_extends_the_chain_of_each_lot_it_touches(
        self, sessions: sessionmaker[Session], lot: Lot
    ) -> None:
        other = make_lot("L-2", owner=SUPPLIER)
        e1 = make_checkpoint("e1", lot=lot, signer=SUPPLIER)
        with sessions.begin() as session:
            session.add_all([other, e1])
            session.flush()
            # e2 is lot L-1's second event and lot L-2's first.
            session.add(
                make_checkpoint("e2", lot=lot, signer=SUPPLIER, prev=e1.digest, others=(other,))
            )
        with sessions() as session:
            links = session.execute(
                select(CheckpointLot.lot_key, CheckpointLot.prev_digest).where(
                    CheckpointLot.checkpoint_digest == h32("event:e2")
                )
            ).all()
        assert sorted(links) == sorted([(lot.lot_key, e1.digest), (other.lot_key, None)])


def test_check_constraints_hold_against_raw_sql(sessions: sessionmaker[Session]) -> None:
    recall = Recall(
        recall_id=1,
        issuer_address=address(3),
        recall_class=4,
        reason_hash=h32("r"),
        voluntary=True,
        issued_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    _rejected(sessions, recall)
    with sessions() as session, pytest.raises(IntegrityError):
        session.execute(
            text("INSERT INTO actor (address, custody, created_at) VALUES (:a, 'bogus', :t)"),
            {"a": address(5), "t": datetime(2026, 1, 1)},
        )
        session.commit()
