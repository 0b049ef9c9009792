"""Rendered scan pages, reused while what they show is unchanged.

A page is stored with the fingerprint of what it was built from: every stored event of the lot
(digest, status, signature and the SHA-256 of its stored text, so an edited row is a miss and
the page is rebuilt, showing the failure), the indexer's cursors (anything the chain changed:
anchors, recalls, certificates, roles) and how many recalls are stored, closed and last updated
(a recall the service wrote itself, before its indexer reached it). Entries also expire after a
few seconds, which bounds how long a change outside the fingerprint (a document's bytes on
disk) can go unseen. Checking a fingerprint is one query on a pooled DBAPI connection, without
the ORM: that is what keeps a scan page about as cheap as a bare endpoint.

A serial's page also shows whether the serial is flagged as a copy (`lotlink.services.scans`),
so the newest flag's id is part of its fingerprint: a flag raised after the page was cached is
a miss, and the warning shows on the very next scan.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import Any

from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lotlink.gs1.digital_link import DigitalLink

# One round trip for a scan: the lot, the indexer's position, the serial's newest copy flag
# (none for a lot's own link: a NULL serial matches nothing), the recalls' state (a recall
# written by the service itself is stored before the indexer reaches its block), and each
# stored event of the lot.
_SCAN = (
    "SELECT l.lot_key, (SELECT sum(block_number) FROM indexer_cursor), "
    "(SELECT max(block_hash) FROM indexer_cursor), "
    "(SELECT max(f.id) FROM copy_flag f WHERE f.lot_key = l.lot_key AND f.serial = {m}), "
    "r.issued, r.closed, r.updated, "
    "c.digest, c.status, c.signature, "
    "c.epcis_json FROM lot l "
    "CROSS JOIN (SELECT count(*) AS issued, count(closed_at) AS closed, "
    "max(updated_at) AS updated FROM recall) r "
    "LEFT JOIN checkpoint c ON c.primary_lot_key = l.lot_key "
    "OR c.digest IN (SELECT checkpoint_digest FROM checkpoint_lot WHERE lot_key = l.lot_key) "
    "WHERE l.gtin = {m} AND l.lot_code = {m} ORDER BY c.digest"
)
_STATE_COLUMNS = 7  # lot key, cursor height and head, copy flag, recalls issued, closed, updated


class PageCache:
    """A bounded, thread-safe LRU of rendered pages with their fingerprints and expiry."""

    def __init__(self, *, size: int = 4096, ttl_seconds: float = 60.0) -> None:
        self._items: OrderedDict[str, tuple[float, Any, HTMLResponse]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size
        self._ttl = ttl_seconds

    def get(self, key: str, fingerprint: Any) -> HTMLResponse | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic() or item[1] != fingerprint:
                return None
            self._items.move_to_end(key)
            return item[2]

    def put(self, key: str, fingerprint: Any, page: HTMLResponse) -> None:
        if page.status_code != 200:
            return
        with self._lock:
            self._items[key] = (time.monotonic() + self._ttl, fingerprint, page)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


page_cache = PageCache()


def page_key(lot_key: str, link: DigitalLink) -> str:
    return f"{lot_key}|{link.path}"


def _mark(engine: Engine) -> str:
    return "?" if engine.dialect.paramstyle == "qmark" else "%s"


def _scan(cursor: Any, mark: str, link: DigitalLink) -> tuple[str, tuple[Any, ...]] | None:
    """(lot key, fingerprint) of the lot `link` names, or None if there is no such lot."""
    cursor.execute(_SCAN.format(m=mark), (link.serial, link.gtin, link.lot))
    rows = cursor.fetchall()
    if not rows:
        return None
    lot_key, state = rows[0][0], tuple(rows[0][1:_STATE_COLUMNS])
    events = tuple(
        (digest, status, signature, hashlib.sha256(stored.encode("utf-8")).digest())
        for digest, status, signature, stored in (row[_STATE_COLUMNS:] for row in rows)
        if digest is not None
    )
    return lot_key, (events, state)


def _with_cursor(engine: Engine, link: DigitalLink) -> tuple[str, tuple[Any, ...]] | None:
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            return _scan(cursor, _mark(engine), link)
        finally:
            cursor.close()
    finally:
        connection.close()


def page_fingerprint(session: Session, link: DigitalLink) -> tuple[Any, ...] | None:
    """What a cached scan page of the lot `link` names must still match, read through the
    session's own connection: a second connection per request could leave every pooled one
    held by a request waiting for another (the pool would then time out under load), and one
    snapshot fingerprints exactly what the page is rendered from."""
    connection = session.connection()
    cursor = connection.connection.cursor()
    try:
        found = _scan(cursor, _mark(connection.engine), link)
    finally:
        cursor.close()
    return None if found is None else found[1]


def cached_page(engine: Engine, link: DigitalLink) -> HTMLResponse | None:
    """The cached scan page of the lot `link` names, if it is still current; else None."""
    assert link.lot is not None
    found = _with_cursor(engine, link)
    if found is None:
        return None
    page = page_cache.get(page_key(found[0], link), found[1])
    if page is None:
        return None
    return HTMLResponse(page.body, status_code=200, headers=dict(page.headers.items()))
