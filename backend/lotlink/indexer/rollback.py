"""Undoing the index above a block: after a reorg (back to the common ancestor) and for
`lotlink reindex` (back to before the deployment).

Rows a log created carry its block (`ChainProvenance`), so they go with one DELETE per table.
Changes that logs made to older rows (a revoked certificate, an updated or closed recall, an
actor's new profile, a revoked role) are undone by resetting those rows and replaying their
own history up to the ancestor, re-read from the chain: the handlers are upserts, so the
replay ends in exactly the row a fresh index would hold. Rows the write path created before
the chain confirmed them (a lot with its product name, an anchorer's batch) lose their chain
provenance but stay, as they were before the indexer saw them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, not_, or_, select, update

from lotlink.chain.decode import ChainLog, LogDecoder
from lotlink.indexer.apply import apply_logs
from lotlink.indexer.registry import ApplyContext
from lotlink.indexer.sql import chunks, table_of
from lotlink.models import (
    Actor,
    ActorRole,
    AnchorReceipt,
    AnchorTransaction,
    ApiToken,
    AppliedLog,
    Batch,
    BatchStatus,
    Certificate,
    Checkpoint,
    CheckpointLot,
    CheckpointStatus,
    LineageEdge,
    Lot,
    OutboxEntry,
    Recall,
    RecallLot,
    RecallStatus,
)

log = logging.getLogger(__name__)

#: Re-reads logs (already decoded, timestamps filled) over [from, to] matching `topics`.
History = Callable[[int, int, list[Any]], list[ChainLog]]


def _topic_address(address: str) -> str:
    return "0x" + address[2:].rjust(64, "0")


def _topic_uint(value: int) -> str:
    return "0x" + format(value, "064x")


def rollback_to(
    conn: Connection,
    ancestor: int,
    *,
    start_block: int,
    decoder: LogDecoder,
    history: History,
) -> None:
    """Make the index what it was when block `ancestor` was the last one applied."""
    a = ancestor
    lot, recall, actor = table_of(Lot), table_of(Recall), table_of(Actor)
    role, receipt, batch = table_of(ActorRole), table_of(AnchorReceipt), table_of(Batch)

    # What must be replayed, found before anything is deleted.
    actors_reset = set(conn.execute(select(actor.c.address).where(actor.c.profile_block > a))
                       .scalars())  # fmt: skip
    candidates = set(actors_reset)
    candidates |= set(conn.execute(select(role.c.actor_address).where(role.c.block_number > a))
                      .scalars())  # fmt: skip
    candidates |= set(conn.execute(select(lot.c.owner_address).where(lot.c.block_number > a))
                      .scalars())  # fmt: skip
    recalls_reset = dict(
        conn.execute(
            select(recall.c.recall_id, recall.c.block_number).where(
                recall.c.updated_block > a, recall.c.block_number <= a
            )
        ).all()
    )
    applied = table_of(AppliedLog)
    roles_revoked = (
        conn.execute(
            select(applied.c.tx_hash)
            .where(applied.c.block_number > a, applied.c.event_name == "RoleRevoked")
            .limit(1)
        ).first()
        is not None
    )

    # Histories to replay, read from the chain up to the ancestor.
    replay: list[ChainLog] = []
    if a >= start_block:
        for accounts in chunks(sorted(actors_reset), 100):
            replay += history(start_block, a, [
                [decoder.topic0("ActorRegistered"), decoder.topic0("ActorProfileUpdated")],
                [_topic_address(account) for account in accounts],
            ])  # fmt: skip
        if recalls_reset:
            ids = sorted(recalls_reset)
            for group in chunks(ids, 100):
                replay += history(min(recalls_reset[i] for i in group), a, [
                    [decoder.topic0("RecallIssued"), decoder.topic0("RecallUpdated")],
                    [_topic_uint(i) for i in group],
                ])  # fmt: skip
        if roles_revoked:
            replay += history(
                start_block, a, [[decoder.topic0("RoleGranted"), decoder.topic0("RoleRevoked")]]
            )

    conn.execute(delete(applied).where(applied.c.block_number > a))

    # Recalls: new ones go (with the lots they name); changes to older ones are undone.
    conn.execute(delete(table_of(RecallLot)).where(table_of(RecallLot).c.block_number > a))
    conn.execute(delete(recall).where(recall.c.block_number > a))
    # The closing words (`closed_reason`) stay: the chain cannot give them back, and a replayed
    # closure keeps them only if they hash to it (`handlers._forget_other_closing_words`).
    conn.execute(
        update(recall)
        .where(recall.c.closed_block > a)
        .values(status=RecallStatus.ACTIVE.value, closed_by=None, closed_reason_hash=None,
                closed_block=None, closed_at=None)
    )  # fmt: skip
    conn.execute(
        update(recall)
        .where(recall.c.updated_block > a)
        .values(updated_by=None, updated_block=None, updated_at=None)
    )

    # Certificates.
    certificate = table_of(Certificate)
    conn.execute(delete(certificate).where(certificate.c.block_number > a))
    conn.execute(
        update(certificate)
        .where(certificate.c.revoked_block > a)
        .values(revoked=False, revoked_by=None, revoked_reason_hash=None, revoked_block=None,
                revoked_tx_hash=None, revoked_at=None)
    )  # fmt: skip

    # Anchors: receipts above the ancestor go; their events are pending again, except those
    # rebuilt from a rolled-back batch's manifest, which go with it.
    digests = list(
        conn.execute(select(receipt.c.event_digest).where(receipt.c.block_number > a)).scalars()
    )
    rebuilt = _rebuilt_above(conn, a)
    conn.execute(delete(receipt).where(receipt.c.block_number > a))
    candidates |= _drop_rebuilt(conn, rebuilt)
    checkpoint = table_of(Checkpoint)
    for chunk in chunks(digests):
        conn.execute(
            update(checkpoint)
            .where(checkpoint.c.digest.in_(chunk))
            .values(status=CheckpointStatus.PENDING.value)
        )
    sent = exists().where(table_of(AnchorTransaction).c.batch_root == batch.c.root)
    conn.execute(
        update(batch)
        .where(batch.c.block_number > a, sent)
        .values(status=BatchStatus.SENT.value, block_number=None, log_index=None,
                anchored_at=None)
    )  # fmt: skip
    conn.execute(delete(batch).where(batch.c.block_number > a))

    _rollback_lots(conn, a)

    # Roles and actors.
    conn.execute(delete(role).where(role.c.block_number > a))
    conn.execute(
        update(actor)
        .where(actor.c.profile_block > a)
        .values(gln=None, profile_hash=None, profile_block=None)
    )
    if replay:
        replay.sort(key=lambda entry: (entry.block_number, entry.log_index))
        apply_logs(ApplyContext(conn=conn), replay, record=False)
    _drop_orphan_actors(conn, candidates)
    log.info("indexer: rolled back to block %d (%d logs replayed)", a, len(replay))


def _rebuilt_above(conn: Connection, a: int) -> set[str]:
    """Events this index holds only because a batch above `a` gave them: anchored by a batch
    receipt, and not queued by the write path (which queues every event it accepts)."""
    receipt, outbox = table_of(AnchorReceipt), table_of(OutboxEntry)
    return set(
        conn.execute(
            select(receipt.c.event_digest).where(
                receipt.c.block_number > a,
                receipt.c.batch_root.is_not(None),
                not_(exists().where(outbox.c.event_digest == receipt.c.event_digest)),
            )
        ).scalars()
    )


def _drop_rebuilt(conn: Connection, doomed: set[str]) -> set[str]:
    """Delete the rebuilt events `doomed` (their lot links and citations cascade), except any
    that an event staying here follows; move their lots' heads back to what is left of each
    chain. Returns their signers (for `_drop_orphan_actors`)."""
    if not doomed:
        return set()
    checkpoint, link, lot = table_of(Checkpoint), table_of(CheckpointLot), table_of(Lot)
    while True:
        followed = set()
        for chunk in chunks(sorted(doomed)):
            followed |= set(
                conn.execute(
                    select(link.c.prev_digest).where(
                        link.c.prev_digest.in_(chunk), link.c.checkpoint_digest.not_in(doomed)
                    )
                ).scalars()
            )
        if not followed:
            break
        doomed -= followed
    signers: set[str] = set()
    lots: set[str] = set()
    for chunk in chunks(sorted(doomed)):
        signers |= set(
            conn.execute(
                select(checkpoint.c.signer_address).where(checkpoint.c.digest.in_(chunk))
            ).scalars()
        )
        lots |= set(
            conn.execute(
                select(link.c.lot_key).where(link.c.checkpoint_digest.in_(chunk))
            ).scalars()
        )
        conn.execute(delete(checkpoint).where(checkpoint.c.digest.in_(chunk)))
    tail = link.alias("tail")
    after = link.alias("after")
    last = (
        select(tail.c.checkpoint_digest)
        .where(
            tail.c.lot_key == lot.c.lot_key,
            not_(
                exists().where(
                    after.c.lot_key == tail.c.lot_key,
                    after.c.prev_digest == tail.c.checkpoint_digest,
                )
            ),
        )
        .scalar_subquery()
    )
    for chunk in chunks(sorted(lots)):
        conn.execute(update(lot).where(lot.c.lot_key.in_(chunk)).values(head_digest=last))
    return signers


def _rollback_lots(conn: Connection, a: int) -> None:
    """Lots above the ancestor go, except those the write path holds more about (a product
    name, checkpoints, a child's lineage): those only lose their chain provenance."""
    lot, edge = table_of(Lot), table_of(LineageEdge)
    checkpoint, checkpoint_lot = table_of(Checkpoint), table_of(CheckpointLot)
    off_chain = or_(
        lot.c.product_name.is_not(None),
        exists().where(checkpoint.c.primary_lot_key == lot.c.lot_key),
        exists().where(checkpoint_lot.c.lot_key == lot.c.lot_key),
    )
    doomed = select(lot.c.lot_key).where(lot.c.block_number > a, not_(off_chain))
    conn.execute(delete(edge).where(edge.c.child_key.in_(doomed)))
    still_parent = exists().where(edge.c.parent_key == lot.c.lot_key)
    conn.execute(delete(lot).where(lot.c.block_number > a, not_(off_chain), not_(still_parent)))
    conn.execute(
        update(lot).where(lot.c.block_number > a).values(block_number=None, tx_hash=None,
                                                          log_index=None)
    )  # fmt: skip


def _drop_orphan_actors(conn: Connection, candidates: set[str]) -> None:
    """Actors known only from rolled-back logs: no role, no profile, nothing local."""
    actor = table_of(Actor)
    role, token = table_of(ActorRole), table_of(ApiToken)
    lot, checkpoint = table_of(Lot), table_of(Checkpoint)
    unused: list[Any] = [
        actor.c.custody == "self",
        actor.c.name.is_(None),
        actor.c.profile_block.is_(None),
        not_(exists().where(role.c.actor_address == actor.c.address)),
        not_(exists().where(token.c.actor_address == actor.c.address)),
        not_(exists().where(lot.c.owner_address == actor.c.address)),
        not_(exists().where(checkpoint.c.signer_address == actor.c.address)),
    ]
    for chunk in chunks(sorted(candidates)):
        conn.execute(delete(actor).where(actor.c.address.in_(chunk), and_(*unused)))
