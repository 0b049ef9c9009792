"""Batch manifests: an index rebuilt from the chain and the manifests alone equals the live one;
a manifest that is missing, altered or carries a bad event is marked and reported, never
indexed; and one that turns up later is indexed while the follower keeps following."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fixtures.world import World
from fixtures.writepath import *  # noqa: F403
from fixtures.writepath import WritePath
from lotlink.anchoring.manifest import ManifestStore, build_manifest
from lotlink.chain.typed_data import sign_typed
from lotlink.config import Settings
from lotlink.db.cluster import scratch_database
from lotlink.db.engine import make_engine
from lotlink.indexer.derived import lot_journey
from lotlink.indexer.manifests import ManifestResolver
from lotlink.main import create_app
from lotlink.models import AnchorReceipt, Batch, Checkpoint, Lot, ManifestStatus
from lotlink.vocabulary import CheckpointKind, Role
from regulator.conftest import write_settings  # noqa: F401  (anchoring done by the tests)
from regulator.scenario import anchor, checkpoint, write_scenario

from .chains import rpc
from .conftest import MakeFollower
from .scenario import REBUILT_TABLES, History, anchor_manifest, signed_events, snapshot, write_lots

WAIT_SECONDS = 120  # the tests wait for conditions, they never time anything

MakeEngine = Callable[[], Engine]


@pytest.fixture
def fresh_engine(
    database_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[MakeEngine]:
    """Engines on further empty databases at the newest migration, on the test's backend."""
    engines: list[Engine] = []
    with contextlib.ExitStack() as databases:

        def make() -> Engine:
            if database_url.startswith("sqlite"):
                path = tmp_path / f"rebuilt-{len(engines)}.db"
                shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
                url = f"sqlite:///{path}"
            else:
                url = databases.enter_context(
                    scratch_database(
                        request.getfixturevalue("postgres_url"),
                        template=request.getfixturevalue("postgres_template"),
                        prefix="lotlink_test",
                    )
                )
            engines.append(make_engine(url))
            return engines[-1]

        yield make
        for engine in engines:
            engine.dispose()


def _journeys(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every lot's journey as pages show it: each checkpoint and its anchor."""
    with Session(engine) as session:
        return {
            key: [
                (
                    step.checkpoint.digest,
                    step.checkpoint.status,
                    step.checkpoint.epcis_json,
                    step.checkpoint.signature,
                    None if step.receipt is None else step.receipt.as_dict(),
                )
                for step in lot_journey(session, key)
            ]
            for key in session.scalars(select(Lot.lot_key))
        }


def test_a_reindex_into_an_empty_database_equals_the_live_index(
    write_path: WritePath,
    engine: Engine,
    make_follower: MakeFollower,
    fresh_engine: MakeEngine,
) -> None:
    # Checkpoints through the real write path (plain forms, transformations of several lots,
    # shipments and receipts), anchored in one batch; then more, chained after the first
    # batch's events, citing a document, anchored in a second batch.
    s = write_scenario(write_path)
    plant = s.parties["plant"]
    pdf = b"%PDF-1.7\n% inspection report\n%%EOF\n"
    uploaded = write_path.client.post(
        "/api/v1/documents", files={"file": ("report.pdf", pdf)}, headers=plant.headers
    )
    assert uploaded.status_code == 201, uploaded.text
    for lot in ("tin_a", "base1"):
        s.digests[lot].append(
            checkpoint(write_path, plant, s.lots[lot], kind="inspected", result="conformant",
                       time="2026-03-06T08:00:00.000+01:00",
                       documents=[hashlib.sha256(pdf).hexdigest()])
        )  # fmt: skip
    anchor(write_path)

    store = ManifestResolver(write_path.settings.manifests_dir)  # where the anchorer writes them
    make_follower(manifests=store).catch_up()  # the live index: the write path's rows, indexed
    live = snapshot(engine, REBUILT_TABLES)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 2
        assert session.scalar(select(func.count()).select_from(AnchorReceipt)) == sum(
            len(d) for d in s.digests.values()
        )

    # From the manifests in the anchorer's store, and from the address each batch names.
    from_store = fresh_engine()
    make_follower(engine=from_store, manifests=store).catch_up()
    from_uri = fresh_engine()
    make_follower(
        engine=from_uri, manifests=ManifestResolver(None, client=write_path.client)
    ).catch_up()

    for rebuilt in (from_store, from_uri):
        assert snapshot(rebuilt, REBUILT_TABLES) == live
        assert _journeys(rebuilt) == _journeys(engine)
    journey = _journeys(from_store)[s.key("tin_a")]
    assert sorted(step[0] for step in journey) == sorted(s.digests["tin_a"])
    assert all(step[4] is not None for step in journey)


def _forge(world: World, history: History, case: str) -> tuple[bytes, bytes]:
    """(the bytes anchored, the bytes put in the store) of a batch bad in the way `case` says."""
    gtin14, lot_code = history.child_ref
    events = signed_events(world, history.child, gtin14=gtin14, lot_code=lot_code, count=2)
    if case in ("forged", "unauthorized"):
        # Signed by a key that is not the signer named ("forged"), or by an actor registered
        # without a role that may record inspections ("unauthorized").
        who = world.stranger if case == "forged" else world.actors[Role.REGULATOR]
        second = events[1]
        message = {"eventHash": bytes.fromhex(second.digest[2:]),
                   "lotKey": bytes.fromhex(second.lot_key[2:]),
                   "kind": CheckpointKind.INSPECTED.code}  # fmt: skip
        signature = "0x" + sign_typed(who, "Checkpoint", message, world.lotlink.domain).hex()
        signer = second.signer if case == "forged" else who.address.lower()
        events[1] = dataclasses.replace(second, signature=signature, signer=signer)
    manifest = build_manifest(
        events, chain_id=world.lotlink.chain_id, contract_address=world.lotlink.address
    )
    anchor_manifest(world, manifest)
    stored = manifest.content
    if case == "altered":  # one quantity changed after the hash was anchored
        stored = stored.replace(b'"quantityMilli":2000', b'"quantityMilli":2500')
        assert stored != manifest.content
    return manifest.content, stored


@pytest.mark.parametrize(
    ("case", "status", "reason"),
    [
        ("missing", ManifestStatus.UNAVAILABLE, "no file"),
        ("altered", ManifestStatus.MISMATCH, "its bytes hash to"),
        ("forged", ManifestStatus.INVALID, "its signature recovers to"),
        ("unauthorized", ManifestStatus.INVALID, "was not inspector or supplier at block"),
    ],
)
def test_a_bad_manifest_is_marked_and_reported_and_none_of_its_events_indexed(
    case: str,
    status: ManifestStatus,
    reason: str,
    world: World,
    engine: Engine,
    make_follower: MakeFollower,
    manifests_dir: Path,
    service_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    history = write_lots(world)
    anchored, stored = _forge(world, history, case)
    if case != "missing":
        manifests_dir.mkdir(parents=True, exist_ok=True)
        name = ManifestStore(manifests_dir).path_of("0x" + _keccak(anchored))
        name.write_bytes(stored)
    follower = make_follower()
    follower.catch_up()

    with Session(engine) as session:
        batch = session.scalars(select(Batch)).one()
        assert batch.manifest_status is status and batch.manifest is None
        assert batch.manifest_error is not None and reason in batch.manifest_error
        assert (batch.manifest_retry_at is not None) == status.retried
        assert session.scalar(select(func.count()).select_from(Checkpoint)) == 0
        assert session.scalar(select(func.count()).select_from(AnchorReceipt)) == 0
    assert any(reason in line for line in follower.status.manifest_problems)
    assert any(reason in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)
    assert follower.unresolved_manifests() == 1

    settings = service_settings.model_copy(update={"anchorer_enabled": False})
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json()["indexer"]["manifests_unresolved"] == 1


def _keccak(content: bytes) -> str:
    from lotlink.chain.merkle import keccak256

    return keccak256(content).hex()


def test_lotlink_reindex_prints_the_unresolved_manifests(
    world: World, service_settings: Settings
) -> None:
    history = write_lots(world)
    _forge(world, history, "missing")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTLINK_")}
    env.update(
        LOTLINK_VAR_DIR=str(service_settings.var_dir),
        LOTLINK_RPC_URL=world.rpc_url,
        LOTLINK_DATABASE_URL=service_settings.effective_database_url,
    )
    done = subprocess.run(
        [sys.executable, "-m", "lotlink.cli", "reindex"],
        env=env, capture_output=True, text=True, timeout=WAIT_SECONDS, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 batch manifest unresolved" in done.stdout
    assert "manifest unavailable" in done.stderr  # the log line naming the batch and why


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_a_manifest_that_turns_up_later_is_indexed_while_the_follower_follows(
    world: World, service_settings: Settings, engine: Engine
) -> None:
    history = write_lots(world)
    anchored, _ = _forge(world, history, "missing")
    settings = service_settings.model_copy(
        update={
            "indexer_enabled": True,
            "anchorer_enabled": False,
            "indexer_poll_seconds": 0.05,
            "indexer_manifest_retry_seconds": 0.05,
            "indexer_manifest_retry_max_seconds": 0.2,
        }
    )

    def batch() -> Batch | None:
        with Session(engine) as session:
            return session.scalars(select(Batch)).one_or_none()

    with TestClient(create_app(settings)) as client:

        def unresolved() -> int:
            return int(client.get("/healthz").json()["indexer"]["manifests_unresolved"])

        _wait_for(lambda: unresolved() == 1, "the batch to be marked unresolved")
        _wait_for(lambda: (batch() or Batch()).manifest_attempts >= 3, "a few retries")
        # Other logs are indexed meanwhile: the missing manifest holds nothing up.
        later = world.register_lot(history.child_ref[0], "LATER1")

        def indexed(lot_key: str) -> bool:
            with Session(engine) as session:
                return session.get(Lot, lot_key) is not None

        _wait_for(lambda: indexed("0x" + later.hex()), "a lot registered after the batch")
        assert unresolved() == 1

        ManifestStore(settings.manifests_dir).directory.mkdir(parents=True, exist_ok=True)
        ManifestStore(settings.manifests_dir).path_of("0x" + _keccak(anchored)).write_bytes(
            anchored
        )
        _wait_for(lambda: unresolved() == 0, "the manifest to be indexed once it turned up")

    found = batch()
    assert found is not None and found.manifest_status is ManifestStatus.VERIFIED
    assert found.manifest_error is None and found.manifest_retry_at is None
    with Session(engine) as session:
        journey = lot_journey(session, history.child)
        assert len(journey) == 2 and all(step.receipt is not None for step in journey)


def test_a_reorg_drops_the_events_a_lost_batch_gave_and_moves_the_lot_head_back(
    private_world: World, engine: Engine, make_private_follower: MakeFollower, manifests_dir: Path
) -> None:
    world = private_world
    history = write_lots(world)
    gtin14, lot_code = history.child_ref
    events = signed_events(world, history.child, gtin14=gtin14, lot_code=lot_code, count=3)
    store = ManifestStore(manifests_dir)

    def anchor_batch(batch: list[Any]) -> None:
        manifest = build_manifest(
            batch, chain_id=world.lotlink.chain_id, contract_address=world.lotlink.address
        )
        store.write(manifest)
        anchor_manifest(world, manifest)

    def chain_of_lot() -> tuple[list[str], str | None]:
        with Session(engine) as session:
            lot = session.get(Lot, history.child)
            assert lot is not None
            return [
                s.checkpoint.digest for s in lot_journey(session, history.child)
            ], lot.head_digest

    anchor_batch(events[:2])
    follower = make_private_follower()
    follower.catch_up()
    fork = rpc(world, "evm_snapshot")
    anchor_batch(events[2:])  # follows the first batch's last event
    follower.catch_up()
    assert chain_of_lot() == ([e.digest for e in events], events[2].digest)
    lost_head = world.w3.eth.block_number

    assert rpc(world, "evm_revert", fork) is True
    rpc(world, "anvil_mine", hex(lost_head - world.w3.eth.block_number + 2))
    follower.catch_up()
    assert follower.status.reorgs == 1
    assert chain_of_lot() == ([e.digest for e in events[:2]], events[1].digest)
    live = snapshot(engine, REBUILT_TABLES)
    follower.reset()
    follower.catch_up()
    assert snapshot(engine, REBUILT_TABLES) == live
