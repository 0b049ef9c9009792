"""Batches this process's anchorer built: the indexer checks their manifests as it checks any
other (taking the manifest built here instead of parsing its bytes again), keeps the receipts
the anchorer stored, and rewrites any stored receipt that differs from what the chain says."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from anchoring.builders import Submitter
from fixtures.world import World
from lotlink.anchoring.anchorer import Anchorer
from lotlink.anchoring.manifest import BuiltManifests, build_manifest
from lotlink.config import Settings
from lotlink.db.engine import make_session_factory
from lotlink.gs1.keys import lot_key
from lotlink.indexer.apply import apply_logs
from lotlink.indexer.manifests import BatchAnchor, check_manifest
from lotlink.indexer.registry import ApplyContext
from lotlink.models import AnchorReceipt, Checkpoint, CheckpointStatus, ManifestStatus
from lotlink.vocabulary import Role

from .conftest import MakeFollower
from .scenario import History, signed_events


def test_a_manifest_built_here_is_checked_like_any_other(world: World) -> None:
    gtin14, lot_code = History().child_ref
    key = "0x" + lot_key(gtin14, lot_code).hex()
    events = signed_events(world, key, gtin14=gtin14, lot_code=lot_code, count=3)
    manifest = build_manifest(
        events, chain_id=world.lotlink.chain_id, contract_address=world.lotlink.address
    )
    built = BuiltManifests()
    built.add(manifest)
    anchor = BatchAnchor(
        root=manifest.root, manifest_hash=manifest.manifest_hash, manifest_uri="", count=3,
        tx_hash="0x" + "11" * 32, block_number=1, block_hash=None, log_index=0, timestamp=0,
    )  # fmt: skip

    def check(anchor: BatchAnchor, built: BuiltManifests | None, chain_id: int) -> Any:
        return check_manifest(
            manifest.content, anchor, chain_id=chain_id, contract=world.lotlink.address,
            source="test", built=built,
        )  # fmt: skip

    chain_id = world.lotlink.chain_id
    verified = check(anchor, built, chain_id)
    assert verified.status is ManifestStatus.VERIFIED, verified.reason
    assert verified == check(anchor, None, chain_id)
    # Every check still runs on the manifest built here: the anchored root and count, the chain.
    for wrong in (dataclasses.replace(anchor, root="0x" + "22" * 32),
                  dataclasses.replace(anchor, count=2)):  # fmt: skip
        refused = check(wrong, built, chain_id)
        assert refused.status is ManifestStatus.INVALID
        assert "the chain anchored" in (refused.reason or "")
    other_chain = check(anchor, built, chain_id + 1)
    assert other_chain.status is ManifestStatus.INVALID
    assert f"not chain {chain_id + 1}" in (other_chain.reason or "")


def _receipts(engine: Engine) -> dict[str, dict[str, Any]]:
    with Session(engine) as session:
        return {
            r.event_digest: {**r.as_dict(), "created_at": r.created_at}
            for r in session.scalars(select(AnchorReceipt))
        }


def _statuses(engine: Engine) -> set[CheckpointStatus]:
    with Session(engine) as session:
        return set(session.scalars(select(Checkpoint.status)))


def test_the_anchorers_receipts_are_kept_and_any_that_differ_rewritten(
    world: World, engine: Engine, service_settings: Settings, make_follower: MakeFollower
) -> None:
    sessions = make_session_factory(engine)
    digests = Submitter(sessions, world.lotlink.domain, world.actors[Role.SUPPLIER]).accept(6)
    anchorer = Anchorer.from_settings(service_settings, engine=engine)
    anchorer.drain()
    anchored = _receipts(engine)
    assert sorted(anchored) == sorted(digests)
    # Three stored receipts go wrong (a block hash, a proof, an event back to pending).
    altered, reproved, pending = digests[:3]
    with Session(engine) as session, session.begin():
        session.execute(
            update(AnchorReceipt)
            .where(AnchorReceipt.event_digest == altered)
            .values(block_hash="0x" + "33" * 32)
        )
        session.execute(
            update(AnchorReceipt)
            .where(AnchorReceipt.event_digest == reproved)
            .values(proof=list(reversed(anchored[reproved]["proof"])))
        )
        session.execute(
            update(Checkpoint)
            .where(Checkpoint.digest == pending)
            .values(status=CheckpointStatus.PENDING)
        )

    follower = make_follower()
    logs = follower.decoder.decode_all(
        follower.fetcher.logs_between(world.deployed_block, world.w3.eth.block_number)
    )
    manifests = follower.resolve_manifests(logs)  # fetched before the transaction, as ranges are
    with engine.begin() as conn:
        ctx = ApplyContext(conn, manifests)
        apply_logs(ctx, logs)

    assert ctx.report.receipts == 3  # written: the three that went wrong, no other
    indexed = _receipts(engine)
    chain_facts = {d: {k: v for k, v in r.items() if k != "created_at"} for d, r in indexed.items()}
    assert chain_facts == {
        d: {k: v for k, v in r.items() if k != "created_at"} for d, r in anchored.items()
    }
    assert _statuses(engine) == {CheckpointStatus.ANCHORED}
