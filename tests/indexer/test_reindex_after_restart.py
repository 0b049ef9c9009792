"""A reindex after the managed anvil restarts from its state file gives every batch back.

The restarted node keeps no state for the blocks before the restart, so `hasRole` at an
anchoring block cannot be asked any more; the indexer then reads the signers' roles from the
contract's role logs (`lotlink.chain.roles`), as the verifiers do, and indexes the batch.
"""

from __future__ import annotations

from pathlib import Path

from eth_account import Account
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from anchoring.processes import OwnChain, no_state_at, own_chain_at, restart
from fixtures.indexing import index_to_head
from fixtures.world import World
from lotlink.anchoring.manifest import ManifestStore, build_manifest
from lotlink.chain.deploy import load_deployment
from lotlink.chain.node import dev_accounts
from lotlink.db import make_engine, upgrade_database
from lotlink.models import Batch, ManifestStatus
from lotlink.vocabulary import Role

from .scenario import REBUILT_TABLES, anchor_manifest, signed_events, snapshot, write_lots


def _world(chain: OwnChain) -> World:
    """The chain's deployment and its actors (admin, anchorer, supplier), as the scenario's
    builders take them."""
    settings = chain.settings
    deployment = load_deployment(settings.deployment_file)
    assert deployment is not None
    assert settings.admin_key is not None and settings.relayer_key is not None
    return World(
        rpc_url=chain.anvil.url,
        deployed_block=deployment.start_block(),
        w3=chain.lotlink.w3,
        lotlink=chain.lotlink,
        actors={
            Role.ADMIN: Account.from_key(settings.admin_key.get_secret_value()),
            Role.ANCHORER: Account.from_key(settings.relayer_key.get_secret_value()),
            Role.SUPPLIER: chain.supplier,
        },
        stranger=dev_accounts(4)[3],
    )


def _index(chain: OwnChain, url: str) -> Engine:
    """An index of the deployment in the empty database at `url`, followed up to the head by
    the follower `lotlink reindex` makes."""
    upgrade_database(url)
    engine = make_engine(url)
    index_to_head(chain.settings, engine)
    return engine


def _manifests(engine: Engine) -> list[tuple[ManifestStatus, str | None]]:
    with Session(engine) as session:
        rows = session.execute(select(Batch.manifest_status, Batch.manifest_error)).all()
    return [(status, error) for status, error in rows]


def test_a_reindex_after_anvil_restarts_gives_the_batches_events_back(tmp_path: Path) -> None:
    with own_chain_at(tmp_path) as chain:
        world = _world(chain)
        history = write_lots(world)
        gtin14, lot_code = history.child_ref
        events = signed_events(world, history.child, gtin14=gtin14, lot_code=lot_code, count=3)
        manifest = build_manifest(
            events, chain_id=world.lotlink.chain_id, contract_address=world.lotlink.address
        )
        ManifestStore(chain.settings.manifests_dir).write(manifest)
        anchor_manifest(world, manifest)
        anchored_at = world.w3.eth.block_number

        live = _index(chain, f"sqlite:///{tmp_path / 'live.db'}")
        rebuilt: Engine | None = None
        try:
            assert _manifests(live) == [(ManifestStatus.VERIFIED, None)]

            restart(chain)
            assert no_state_at(chain, anchored_at)

            rebuilt = _index(chain, f"sqlite:///{tmp_path / 'rebuilt.db'}")
            assert _manifests(rebuilt) == [(ManifestStatus.VERIFIED, None)]
            assert snapshot(rebuilt, REBUILT_TABLES) == snapshot(live, REBUILT_TABLES)
        finally:
            live.dispose()
            if rebuilt is not None:
                rebuilt.dispose()
