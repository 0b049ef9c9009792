"""Anchoring fixtures: sessions on the test database, a submitter signing with the world's keys,
an anchorer for the session deployment, and a chain of a test's own for outages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from anchoring.builders import Submitter
from anchoring.processes import OwnChain, own_chain_at
from fixtures.world import World
from lotlink.anchoring.anchorer import Anchorer
from lotlink.config import Settings
from lotlink.db import make_engine, make_session_factory
from lotlink.vocabulary import Role


@pytest.fixture
def engine(service_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(service_settings.effective_database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def submitter(world: World, sessions: sessionmaker[Session]) -> Submitter:
    return Submitter(sessions, world.lotlink.domain, world.actors[Role.SUPPLIER])


@pytest.fixture
def anchorer_factory(service_settings: Settings, engine: Engine) -> Iterator[type[Anchorer]]:
    made: list[Anchorer] = []

    def make(**overrides: object) -> Anchorer:
        settings = service_settings.model_copy(update=overrides)
        anchorer = Anchorer.from_settings(settings, engine=engine)
        made.append(anchorer)
        return anchorer

    yield make  # type: ignore[misc]
    for anchorer in made:
        anchorer.stop()


@pytest.fixture
def own_chain(tmp_path: Path) -> Iterator[OwnChain]:
    """A deployment on an anvil of this test's own, which the test may stop and restart."""
    with own_chain_at(tmp_path) as chain:
        yield chain
