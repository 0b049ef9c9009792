"""Engine and session fixtures on top of ``database_url`` (SQLite and PostgreSQL in turn)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lotlink.db import make_engine, make_session_factory


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a fresh migrated database; disposed so the database can be dropped."""
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """A session factory: tests open one session to write and another to read back."""
    return make_session_factory(engine)
