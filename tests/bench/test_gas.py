"""`lotlink bench gas` measures every write, and the checkpoint paths meet issue #2's gas targets.

Gas is deterministic for a given compiler and chain, so unlike time it is asserted here.
"""

from __future__ import annotations

from lotlink.bench.gas import format_table, measure_gas

WRITES = {
    "registerActor",
    "updateActorProfile",
    "registerLot",
    "recordCheckpoint",
    "anchorBatch",
    "issueCertificate",
    "revokeCertificate",
    "issueRecall",
    "updateRecall",
    "closeRecall",
}


def test_every_write_is_measured_and_the_checkpoint_targets_hold() -> None:
    rows = measure_gas()
    assert {row.write for row in rows} == WRITES
    direct = [row for row in rows if row.write == "recordCheckpoint"]
    assert direct and all(row.gas <= 60_000 for row in direct), direct
    batches = {row.events: row for row in rows if row.write == "anchorBatch"}
    assert set(batches) == {1, 64, 1024}
    assert all(row.gas <= 60_000 for row in batches.values())
    assert batches[1024].per_event <= 60
    table = format_table(rows)
    assert table.count("\n") == len(rows) + 1 and "| `anchorBatch` | batch of 1,024" in table
