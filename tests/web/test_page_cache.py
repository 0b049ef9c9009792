"""A scan page's fingerprint is read through the request's own connection: a second pooled
connection per request deadlocks the pool under load (every connection held by a request
waiting for another)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from lotlink.db.engine import make_engine, make_read_session_factory
from lotlink.db.migrate import upgrade_database
from lotlink.gs1.digital_link import DigitalLink
from lotlink.models import Lot
from lotlink.web.page_cache import page_fingerprint


def test_the_fingerprint_needs_no_connection_beyond_the_requests_own(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one-connection.db'}"
    upgrade_database(url)
    # A pool of exactly one connection that never waits: a second checkout fails at once.
    engine = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    link = DigitalLink(gtin="09521230000018", lot="NO-SUCH-LOT")
    with make_read_session_factory(engine)() as session:
        assert session.scalar(select(Lot).limit(1)) is None  # the request holds its connection
        assert page_fingerprint(session, link) is None
    engine.dispose()
