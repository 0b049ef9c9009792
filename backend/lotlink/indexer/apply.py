"""Applying decoded logs to SQL: each log once (its transaction hash and log index are the
`applied_log` key), then the handlers of each group in `PHASES` order."""

from __future__ import annotations

from sqlalchemy import select

from lotlink.chain.decode import ChainLog
from lotlink.indexer import anchors, handlers  # noqa: F401  (registers the handlers)
from lotlink.indexer.registry import HANDLERS, PHASE_OF, PHASES, ApplyContext
from lotlink.indexer.sql import table_of
from lotlink.models import AppliedLog


def unapplied(ctx: ApplyContext, logs: list[ChainLog]) -> list[ChainLog]:
    """`logs` less those already applied (a range is applied at most once, but a log seen
    twice, e.g. re-read after a crash between two commits, must not count twice)."""
    if not logs:
        return logs
    table = table_of(AppliedLog)
    seen = {
        (tx_hash, log_index)
        for tx_hash, log_index in ctx.conn.execute(
            select(table.c.tx_hash, table.c.log_index).where(
                table.c.block_number.between(logs[0].block_number, logs[-1].block_number)
            )
        )
    }
    return [log for log in logs if log.key not in seen] if seen else logs


def _record_applied(ctx: ApplyContext, logs: list[ChainLog]) -> None:
    """One executemany at the driver: the hottest write of all, one row per log. The decoder
    yields hashes and addresses already in the canonical lowercase 0x form that `Hex32` and
    `Address` would produce, so their per-value bind processing is skipped."""
    mark = "?" if ctx.conn.dialect.paramstyle == "qmark" else "%s"
    ctx.conn.exec_driver_sql(
        "INSERT INTO applied_log (tx_hash, log_index, block_number, block_hash, "
        f"contract_address, event_name) VALUES ({', '.join([mark] * 6)})",
        [
            (log.tx_hash, log.log_index, log.block_number, log.block_hash, log.address, log.name)
            for log in logs
        ],
    )


def apply_logs(ctx: ApplyContext, logs: list[ChainLog], *, record: bool = True) -> None:
    """Apply `logs` (in chain order) inside the caller's transaction.

    With `record`, each log is first entered in `applied_log`; replays of history after a
    reorg pass ``record=False`` because those logs are applied already."""
    if record:
        logs = unapplied(ctx, logs)
        if logs:
            _record_applied(ctx, logs)
    groups: list[list[ChainLog]] = [[] for _ in PHASES]
    for log in logs:
        phase = PHASE_OF.get(log.name)
        if phase is not None:
            groups[phase].append(log)
    for names, group in zip(PHASES, groups, strict=True):
        if group:
            HANDLERS[names](ctx, group)
    ctx.report.applied += len(logs)
