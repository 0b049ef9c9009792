"""Every kind of event lands in SQL as the chain says, once, whatever the order of writers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from fixtures.world import World
from lotlink.chain.decode import LogDecoder
from lotlink.indexer.apply import apply_logs
from lotlink.indexer.cursor import load_cursor
from lotlink.indexer.derived import (
    CertificateValidity,
    certificate_validity,
    lineage_edges,
    lot_journey,
    recall_status,
)
from lotlink.indexer.registry import ApplyContext
from lotlink.models import (
    Actor,
    ActorRole,
    AnchorReceipt,
    AppliedLog,
    Batch,
    BatchStatus,
    Certificate,
    Checkpoint,
    CheckpointStatus,
    IndexerCursor,
    LineageEdge,
    Lot,
    ManifestStatus,
    Recall,
    RecallLot,
    RecallStatus,
)
from lotlink.models.recall import closing_hash
from lotlink.vocabulary import Role

from .conftest import MakeFollower
from .scenario import add_checkpoint, h32, snapshot, store_accepted, write_lots, write_rest


def test_every_event_kind_is_indexed(
    world: World, engine: Engine, make_follower: MakeFollower, manifests_dir: Path
) -> None:
    history = write_lots(world)
    follower = make_follower()
    follower.catch_up()
    supplier = world.actors[Role.SUPPLIER].address.lower()
    inspector = world.actors[Role.INSPECTOR].address.lower()
    write_rest(world, history, manifests=manifests_dir)
    # The write path stores accepted events (two of the batch's three) before they are indexed;
    # the third is rebuilt from the batch's manifest.
    for event in history.batch_events[:2]:
        store_accepted(engine, event, world)
    add_checkpoint(engine, digest=history.direct_digest, lot_key=history.raw, signer=inspector)
    follower.catch_up()

    with Session(engine) as session:
        roles = {(r.actor_address, r.role) for r in session.scalars(select(ActorRole))}
        assert (supplier, Role.SUPPLIER) in roles and (supplier, Role.CARRIER) in roles
        assert (inspector, Role.CARRIER) not in roles  # granted, then revoked
        assert (world.admin.address.lower(), Role.ADMIN) in roles
        actor = session.get(Actor, supplier)
        assert actor is not None and actor.profile_hash == "0x" + _h("profile-2")
        assert actor.gln is not None and len(actor.gln) == 13

        child = session.get(Lot, history.child)
        assert child is not None and child.owner_address == supplier and child.unit == "KGM"
        assert child.block_number is not None and child.tx_hash is not None
        edges = {(e.parent_key, e.quantity_milli, e.unit) for e in session.scalars(
            select(LineageEdge).where(LineageEdge.child_key == history.child))}  # fmt: skip
        assert edges == {(history.raw, 1500, "KGM"), (history.other, 250, "KGM")}
        assert {e.parent_key for e in lineage_edges(session, history.child, upstream=True)} == {
            history.raw, history.other}  # fmt: skip
        assert {e.child_key for e in lineage_edges(session, history.raw, upstream=False)} == {
            history.child}  # fmt: skip

        certificate = session.get(Certificate, history.certificate)
        assert certificate is not None and not certificate.revoked
        assert certificate_validity(session, history.certificate) is CertificateValidity.VALID
        revoked = session.scalars(select(Certificate).where(Certificate.revoked)).one()
        assert revoked.revoked_reason_hash == "0x" + _h("withdrawn")
        assert certificate_validity(session, revoked.certificate_id) is CertificateValidity.REVOKED
        far = datetime(2100, 1, 1, tzinfo=UTC)
        assert certificate_validity(session, history.certificate, at=far) is (
            CertificateValidity.EXPIRED)  # fmt: skip

        recalls = {r.recall_id: r for r in session.scalars(select(Recall))}
        assert recalls[history.recall].recall_class == 1  # updated from 2
        assert recalls[history.recall].status is RecallStatus.ACTIVE
        assert recalls[history.recall].updated_at is not None
        voluntary = [r for r in recalls.values() if r.voluntary]
        assert len(voluntary) == 1 and voluntary[0].status is RecallStatus.CLOSED
        assert session.scalars(select(RecallLot.lot_key)).all() == [history.raw] * 2
        status = recall_status(session, history.child)  # inherited from the raw lot
        assert status.recalled and status.most_severe_class == 1
        assert [(r.recall_id, r.depth, r.inherited) for r in status.recalls] == [
            (history.recall, 1, True)]  # fmt: skip
        assert not recall_status(session, history.other).recalled

        direct = session.get(AnchorReceipt, history.direct_digest)
        assert direct is not None and direct.batch_root is None and direct.proof == []
        assert direct.root == direct.leaf
        batch = session.get(Batch, history.batch_root)
        assert batch is not None and batch.status is BatchStatus.ANCHORED
        assert batch.manifest_status is ManifestStatus.VERIFIED and batch.event_count == 3
        batched = session.scalars(select(AnchorReceipt).where(
            AnchorReceipt.batch_root == history.batch_root)).all()  # fmt: skip
        assert {r.event_digest for r in batched} == set(history.batch_digests)
        assert all(len(r.proof) >= 1 for r in batched)
        anchored = session.scalars(select(Checkpoint.digest).where(
            Checkpoint.status == CheckpointStatus.ANCHORED)).all()  # fmt: skip
        assert set(anchored) == {history.direct_digest, *history.batch_digests}
        journey = lot_journey(session, history.child)
        assert [step.checkpoint.digest for step in journey] == history.batch_digests
        assert [step.receipt is not None for step in journey] == [True, True, True]
        assert child.head_digest == history.batch_digests[-1]

        head = world.w3.eth.block_number
        cursor = session.get(IndexerCursor, "lotlink")
        assert cursor is not None and cursor.block_number == head


def test_applying_twice_equals_once(
    world: World, engine: Engine, make_follower: MakeFollower, manifests_dir: Path
) -> None:
    history = write_lots(world)
    write_rest(world, history, manifests=manifests_dir)
    follower = make_follower()
    follower.catch_up()
    once = snapshot(engine)

    # The same logs again, through the follower from the deployment block...
    with engine.begin() as conn:
        conn.execute(update(IndexerCursor.__table__).values(block_number=world.deployed_block - 1))
    follower.catch_up()
    assert snapshot(engine) == once
    # ...and straight through the handlers, bypassing the applied-log guard.
    raws = follower.fetcher.logs_between(world.deployed_block, world.w3.eth.block_number)
    logs = follower.decoder.decode_all(raws)
    manifests = follower.resolve_manifests(logs)  # fetched before the transaction, as ranges are
    with engine.begin() as conn:
        apply_logs(ApplyContext(conn, manifests), logs, record=False)
    assert snapshot(engine) == once
    with engine.connect() as conn:
        assert load_cursor(conn) is not None
        count = conn.execute(select(AppliedLog.__table__.c.tx_hash)).all()
    assert len(count) == len(logs)


def test_the_write_path_and_the_index_meet_in_one_row(
    world: World, engine: Engine, make_follower: MakeFollower
) -> None:
    """A lot inserted by the write path before its log is indexed keeps its off-chain facts
    and gains its chain provenance; the chain's facts win where both speak."""
    supplier = world.actors[Role.SUPPLIER].address.lower()
    history = write_lots(world)
    with Session(engine) as session, session.begin():
        session.add(Actor(address=supplier, name="Acme Foods"))
        session.add(Lot(lot_key=history.child, gtin="09521234000030", lot_code="MIXA",
                        product_name="Muesli 500 g", quantity_milli=1, unit="KGM",
                        owner_address=supplier))  # fmt: skip
    make_follower().catch_up()
    with Session(engine) as session:
        lot = session.get(Lot, history.child)
        assert lot is not None and lot.product_name == "Muesli 500 g"
        assert lot.quantity_milli == 5000 and lot.block_number is not None
        actor = session.get(Actor, supplier)
        assert actor is not None and actor.name == "Acme Foods"


def test_closing_words_stay_only_beside_the_hash_they_match(
    world: World, engine: Engine, make_follower: MakeFollower
) -> None:
    """The chain gives a closure only its hash: words the write path stored stay when they hash
    to it, and words left from another closure (one a reorg undid) go."""
    regulator = world.actors[Role.REGULATOR]
    raw = bytes.fromhex(write_lots(world).raw[2:])
    kept, stale = (
        int(world.lotlink.events(receipt, "RecallIssued")[0]["recallId"])
        for receipt in (
            world.send("issueRecall", [raw], 2, h32(label), by=regulator)
            for label in ("kept", "stale")
        )
    )
    follower = make_follower()
    follower.catch_up()
    with Session(engine) as session, session.begin():
        session.execute(
            update(Recall).where(Recall.recall_id == kept).values(closed_reason="Stock destroyed.")
        )
        session.execute(
            update(Recall)
            .where(Recall.recall_id == stale)
            .values(closed_reason="The words of a closure that was undone.")
        )
    world.send("closeRecall", kept, h32("Stock destroyed."), by=regulator)
    world.send("closeRecall", stale, h32("Another reason."), by=regulator)
    follower.catch_up()
    with Session(engine) as session:
        rows = {r.recall_id: r for r in session.scalars(select(Recall))}
    assert rows[kept].status is RecallStatus.CLOSED and rows[stale].status is RecallStatus.CLOSED
    assert rows[kept].closed_reason == "Stock destroyed."
    assert rows[kept].closed_reason_hash == closing_hash("Stock destroyed.")
    assert rows[stale].closed_reason is None
    assert rows[stale].closed_reason_hash == closing_hash("Another reason.")


def _h(label: str) -> str:
    from eth_utils import keccak

    return keccak(text=label).hex()


def test_both_decoders_equal_web3_process_log(
    world: World, make_follower: MakeFollower, manifests_dir: Path
) -> None:
    history = write_lots(world)
    write_rest(world, history, manifests=manifests_dir)
    follower = make_follower()
    raws = follower.fetcher.logs_between(world.deployed_block, world.w3.eth.block_number)
    fast = follower.decoder.decode_all(raws)
    via_eth_abi = LogDecoder(world.lotlink.abi, use_eth_abi=True).decode_all(raws)
    formatted = world.w3.eth.get_logs(
        {"address": world.lotlink.address, "fromBlock": world.deployed_block, "toBlock": "latest"}
    )
    assert len(fast) == len(via_eth_abi) == len(formatted) > 20
    assert {log.name for log in fast} >= {
        "ActorRegistered", "ActorProfileUpdated", "RoleGranted", "RoleRevoked", "LotRegistered",
        "CheckpointRecorded", "BatchAnchored", "CertificateIssued", "CertificateRevoked",
        "RecallIssued", "LotRecalled", "RecallUpdated", "RecallClosed",
    }  # fmt: skip
    for ours, theirs_eth_abi, entry in zip(fast, via_eth_abi, formatted, strict=True):
        event = getattr(world.lotlink.contract.events, ours.name)()
        web3_args = {k: _plain(v) for k, v in event.process_log(entry)["args"].items()}
        assert ours.args == theirs_eth_abi.args == web3_args, ours.name


def _plain(value: object) -> object:
    if isinstance(value, Mapping):  # web3 gives structs as AttributeDicts, in ABI order
        return tuple(_plain(v) for v in value.values())
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    return value
