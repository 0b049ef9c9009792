"""Indexer fixtures: a follower of the session's deployment writing into a fresh database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from fixtures.world import World
from lotlink.chain.compile import load_artifact
from lotlink.db.engine import make_engine
from lotlink.indexer.follower import Follower
from lotlink.indexer.manifests import ManifestResolver

MakeFollower = Callable[..., Follower]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def manifests_dir(tmp_path: Path) -> Path:
    return tmp_path / "manifests"


@pytest.fixture
def make_follower(world: World, engine: Engine, manifests_dir: Path) -> Iterator[MakeFollower]:
    """Followers of the session's deployment; each is closed after the test."""
    made: list[Follower] = []

    def make(**overrides: Any) -> Follower:
        options: dict[str, Any] = {
            "engine": engine,
            "rpc_url": world.rpc_url,
            "address": world.lotlink.address,
            "start_block": world.deployed_block,
            "abi": load_artifact("Lotlink").abi,
            "manifests": ManifestResolver(manifests_dir),
            "window": 16,
            **overrides,
        }
        follower = Follower(**options)
        made.append(follower)
        return follower

    yield make
    for follower in made:
        follower.close()


@pytest.fixture(scope="module")
def private_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A chain of this module's own, for tests that reorganise it or kill things."""
    from .chains import start_private_world

    anvil, world = start_private_world(tmp_path_factory.mktemp("private-anvil"))
    try:
        yield world
    finally:
        anvil.stop()


@pytest.fixture
def private_world(private_chain: World) -> Iterator[World]:
    """The private chain, reverted to its state before the test afterwards."""
    from .chains import rpc

    snapshot = rpc(private_chain, "evm_snapshot")
    yield private_chain
    assert rpc(private_chain, "evm_revert", snapshot) is True


@pytest.fixture
def make_private_follower(
    private_world: World, engine: Engine, manifests_dir: Path
) -> Iterator[MakeFollower]:
    made: list[Follower] = []

    def make(**overrides: Any) -> Follower:
        options: dict[str, Any] = {
            "engine": engine,
            "rpc_url": private_world.rpc_url,
            "address": private_world.lotlink.address,
            "start_block": private_world.deployed_block,
            "abi": load_artifact("Lotlink").abi,
            "manifests": ManifestResolver(manifests_dir),
            "window": 32,
            **overrides,
        }
        follower = Follower(**options)
        made.append(follower)
        return follower

    yield make
    for follower in made:
        follower.close()
