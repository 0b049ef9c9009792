"""Bulk statements: rows sharing column values store exactly what one row at a time would."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, insert, text

from lotlink.db.bulk import insert_sharing, table_of
from lotlink.models import Batch, BatchStatus

from .builders import address, h32

BATCH = table_of(Batch)
#: Values as callers may give them: mixed-case hex, an instant with an offset, an enum member.
SHARED = {
    "manifest_hash": h32("manifest").upper().replace("0X", "0x"),
    "anchorer_address": address(7).replace("0x", "0X"),
    "created_at": datetime(2026, 3, 1, 9, 30, 0, 250000, tzinfo=timezone(timedelta(hours=1))),
    "status": BatchStatus.SENT,
    "event_count": 3,
    "manifest_uri": None,
}


def _stored(engine: Engine, roots: list[str]) -> list[tuple[object, ...]]:
    """The rows as the database holds them (no result processing), by root."""
    columns = ", ".join(SHARED)
    marks = ", ".join(f":r{i}" for i in range(len(roots)))
    with engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT {columns} FROM batch WHERE root IN ({marks}) ORDER BY root"),
            {f"r{i}": root for i, root in enumerate(roots)},
        )
        return [tuple(row) for row in rows]


def test_shared_values_are_stored_as_each_row_binding_them_would(engine: Engine) -> None:
    shared_roots = [h32("shared-1"), h32("shared-2")]
    one_by_one = [h32("single-1"), h32("single-2")]
    with engine.begin() as conn:
        insert_sharing(conn, BATCH, [{"root": root} for root in shared_roots], shared=SHARED)
        conn.execute(insert(BATCH), [{"root": root, **SHARED} for root in one_by_one])

    stored, expected = _stored(engine, shared_roots), _stored(engine, one_by_one)
    assert stored == expected
    assert stored[0][0] == h32("manifest")  # canonical lowercase, as the column binds it


def test_a_malformed_shared_value_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="bytes32 must be 32 bytes"), engine.begin() as conn:
        insert_sharing(
            conn, BATCH, [{"root": h32("bad")}], shared={**SHARED, "manifest_hash": "0x12"}
        )
