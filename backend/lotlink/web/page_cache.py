"""Rendered scan pages, reused while what they show is unchanged.

A page is stored with the fingerprint of what it was built from: every stored event of the lot
(digest, status, signature and the SHA-256 of its stored text, so an edited row is a miss and
the page is rebuilt, showing the failure) and the indexer's cursors (anything the chain changed:
anchors, recalls, certificates, roles). Entries also expire after a few seconds, which bounds
how long a change outside the fingerprint (a document's bytes on disk, a recall's wording) can
go unseen. Checking a fingerprint is two small queries on a pooled DBAPI connection, without
the ORM: that is what keeps a scan page about as cheap as a bare endpoint.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import Any

from fastapi.responses import HTMLResponse
from sqlalchemy import Engine

from lotlink.gs1.digital_link import DigitalLink

_LOT = "SELECT lot_key FROM lot WHERE gtin = {m} AND lot_code = {m}"
_EVENTS = (
    "SELECT digest, status, signature, epcis_json FROM checkpoint WHERE primary_lot_key = {m} "
    "OR digest IN (SELECT checkpoint_digest FROM checkpoint_lot WHERE lot_key = {m}) "
    "ORDER BY digest"
)
_CURSORS = "SELECT name, block_number, block_hash FROM indexer_cursor ORDER BY name"


class PageCache:
    """A bounded, thread-safe LRU of rendered pages with their fingerprints and expiry."""

    def __init__(self, *, size: int = 4096, ttl_seconds: float = 10.0) -> None:
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


def _fingerprint(cursor: Any, mark: str, lot_key: str) -> tuple[Any, ...]:
    cursor.execute(_EVENTS.format(m=mark), (lot_key, lot_key))
    events = tuple(
        (digest, status, signature, hashlib.sha256(stored.encode("utf-8")).digest())
        for digest, status, signature, stored in cursor.fetchall()
    )
    cursor.execute(_CURSORS)
    return events, tuple(tuple(row) for row in cursor.fetchall())


def page_fingerprint(engine: Engine, lot_key: str) -> tuple[Any, ...]:
    """What a cached scan page of `lot_key` must still match."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            return _fingerprint(cursor, _mark(engine), lot_key)
        finally:
            cursor.close()
    finally:
        connection.close()


def cached_page(engine: Engine, link: DigitalLink) -> HTMLResponse | None:
    """The cached scan page of the lot `link` names, if it is still current; else None."""
    assert link.lot is not None
    mark = _mark(engine)
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(_LOT.format(m=mark), (link.gtin, link.lot))
            row = cursor.fetchone()
            if row is None:
                return None
            lot_key = row[0]
            page = page_cache.get(page_key(lot_key, link), _fingerprint(cursor, mark, lot_key))
        finally:
            cursor.close()
    finally:
        connection.close()
    if page is None:
        return None
    return HTMLResponse(page.body, status_code=200, headers=dict(page.headers.items()))
