"""Receipts from the tree the anchorer built, and from the stored manifest after a restart: the
same proofs, and every one verifies against the chain."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from anchoring.builders import Submitter
from anchoring.checks import assert_anchored_exactly_once, batch_anchored_logs
from fixtures.world import World
from lotlink.anchoring.anchorer import Anchorer
from lotlink.anchoring.manifest import BuiltManifests, Manifest, parse_manifest
from lotlink.config import Settings
from lotlink.models import AnchorReceipt, Batch

MakeAnchorer = Callable[[BuiltManifests], Anchorer]


@pytest.fixture
def make_anchorer(service_settings: Settings, engine: Engine) -> Iterator[MakeAnchorer]:
    """Anchorers (batches of 8) of the test database, each knowing the manifests `built`."""
    made: list[Anchorer] = []
    settings = service_settings.model_copy(update={"batch_size": 8})

    def make(built: BuiltManifests) -> Anchorer:
        made.append(Anchorer.from_settings(settings, engine=engine, built=built))
        return made[-1]

    yield make
    for anchorer in made:
        anchorer.stop()


def _receipts(sessions: sessionmaker[Session], root: str) -> dict[str, tuple[str, list[str]]]:
    with sessions() as session:
        rows = session.scalars(select(AnchorReceipt).where(AnchorReceipt.batch_root == root))
        return {r.event_digest: (r.leaf, list(r.proof)) for r in rows}


def _expected(manifest: Manifest) -> dict[str, tuple[str, list[str]]]:
    leaves = manifest.tree.leaves()
    return {
        event.digest: (leaves[i], manifest.tree.get_proof(i))
        for i, event in enumerate(manifest.events)
    }


def test_the_anchored_stored_and_served_bytes_are_the_built_manifests(
    world: World, sessions: sessionmaker[Session], submitter: Submitter, make_anchorer: MakeAnchorer
) -> None:
    start = world.w3.eth.block_number + 1
    digests = submitter.accept(5)
    built = BuiltManifests()
    anchorer = make_anchorer(built)

    anchorer.drain()

    (logged,) = batch_anchored_logs(world.lotlink, start)
    manifest = built.get(logged["manifestHash"])
    assert manifest is not None and manifest.root == logged["root"]
    with sessions() as session:
        stored = session.get_one(Batch, manifest.root).manifest
    assert stored is not None and stored.encode() == manifest.content
    assert anchorer.manifests.read(manifest.manifest_hash) == manifest.content
    assert parse_manifest(manifest.content, expected_hash=logged["manifestHash"]) == manifest
    assert _receipts(sessions, manifest.root) == _expected(manifest)
    assert_anchored_exactly_once(sessions, world.lotlink, digests, from_block=start)


def test_after_a_restart_receipts_come_from_the_stored_manifest_alike(
    world: World, sessions: sessionmaker[Session], submitter: Submitter, make_anchorer: MakeAnchorer
) -> None:
    start = world.w3.eth.block_number + 1
    digests = submitter.accept(11)
    before = BuiltManifests()
    first = make_anchorer(before)
    root = first.batcher.close_batch()  # a full batch of 8, built; then the process dies
    assert root is not None
    with sessions() as session:
        manifest_hash = session.get_one(Batch, root).manifest_hash
    built = before.get(manifest_hash)
    assert built is not None

    # A new process knows nothing it built: the unfinished batch's receipts come from parsing
    # the stored manifest, and the rest of the outbox is batched and anchored as usual.
    restarted = make_anchorer(BuiltManifests())
    restarted.drain()

    assert _receipts(sessions, root) == _expected(built)
    assert sorted(log["count"] for log in batch_anchored_logs(world.lotlink, start)) == [3, 8]
    assert_anchored_exactly_once(sessions, world.lotlink, digests, from_block=start)
