"""Concurrent writers to one lot are serialised: every event is accepted, in one chain."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select

from fixtures.writepath import WritePath, gtin
from lotlink.models import CheckpointLot, Lot, OutboxEntry
from lotlink.schemas.checkpoints import CheckpointCreate
from lotlink.services.actors import get_actor
from lotlink.services.lots import find_lot
from lotlink.services.submissions import submit_checkpoint
from lotlink.vocabulary import Role

WRITERS = 6
EACH = 4


def test_concurrent_writers_form_one_hash_chain(write_path: WritePath) -> None:
    supplier = write_path.actor(Role.SUPPLIER)
    lot = write_path.lot(supplier, gtin(51), "BUSY")

    def write(n: int) -> list[Any]:
        results = []
        with write_path.session() as session:
            for i in range(EACH):
                actor = get_actor(session, supplier.address)
                row = find_lot(session, lot["lot_key"])
                form = CheckpointCreate(
                    kind="inspected",  # type: ignore[arg-type]
                    time=f"2025-03-01T10:{n:02d}:{i:02d}.000Z",
                )
                accepted = submit_checkpoint(session, write_path.chain, actor, row, form)
                results.append(accepted.checkpoint.digest)
        return results

    with ThreadPoolExecutor(WRITERS) as pool:
        digests = [d for batch in pool.map(write, range(WRITERS)) for d in batch]
    assert len(set(digests)) == WRITERS * EACH
    with write_path.session() as session:
        links = {
            link.prev_digest: link.checkpoint_digest
            for link in session.scalars(
                select(CheckpointLot).where(CheckpointLot.lot_key == lot["lot_key"])
            )
        }
        walk, cursor = [], None
        while cursor in links:
            cursor = links[cursor]
            walk.append(cursor)
        assert sorted(walk) == sorted(digests)  # one unbroken chain through every event
        head = session.get(Lot, lot["lot_key"])
        assert head is not None and head.head_digest == walk[-1]
        assert len(session.scalars(select(OutboxEntry)).all()) == len(digests)
