"""The indexer inside a process: started with the service (or alone, by `lotlink indexer`),
and its report for /healthz (lag in blocks and seconds)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from web3 import Web3

from lotlink.chain.deploy import Deployment
from lotlink.config import Settings
from lotlink.db.engine import READ_ONLY_OPTION
from lotlink.indexer.anchors import count_unresolved
from lotlink.indexer.cursor import load_cursor
from lotlink.indexer.follower import Follower, FollowerThread


def make_follower(settings: Settings, engine: Engine, deployment: Deployment) -> Follower:
    return Follower.from_settings(
        settings,
        engine=engine,
        address=deployment.address(),
        start_block=deployment.start_block(),
    )


def start_indexer(settings: Settings, engine: Engine, deployment: Deployment) -> FollowerThread:
    """A follower thread of `deployment`, started; `.stop()` ends it."""
    thread = FollowerThread(make_follower(settings, engine, deployment))
    thread.start()
    return thread


def indexer_health(
    *, thread: FollowerThread | None, engine: Engine, w3: Web3, settings: Settings
) -> dict[str, Any]:
    """The indexer's state and lag. From the running thread when this process runs it,
    otherwise from the database's cursor (another process, `lotlink indexer`, runs it)."""
    report: dict[str, Any] = {"in_process": thread is not None}
    try:
        with engine.connect().execution_options(**{READ_ONLY_OPTION: True}) as conn:
            # Anchored batches whose events are not indexed (unfetchable, mismatching or
            # failing manifests): never silently accepted, so counted here.
            report["manifests_unresolved"] = count_unresolved(conn)
    except Exception as error:  # a health check reports, never raises
        report.update(ok=False, error=f"{type(error).__name__}: {error}".splitlines()[0])
        return report
    if thread is not None:
        status = thread.status
        report.update(
            state=status.state,
            head_block=status.head_block,
            cursor_block=status.cursor_block,
            lag_blocks=status.lag_blocks,
            lag_seconds=status.lag_seconds,
            reorgs=status.reorgs,
            retries=status.retries,
            last_error=status.last_error,
            manifest_problems=status.manifest_problems[-5:],
            ok=status.state not in ("failed", "stopped"),
        )
        return report
    try:
        with engine.connect() as conn:
            cursor = load_cursor(conn)
        if cursor is None:
            report.update(state="not_started", ok=True, lag_blocks=None, lag_seconds=None)
            return report
        head = w3.eth.get_block("latest")
    except Exception as error:  # a health check reports, never raises
        report.update(ok=False, error=f"{type(error).__name__}: {error}".splitlines()[0])
        return report
    head_number, head_time = int(head["number"]), int(head["timestamp"])
    try:
        at_cursor = int(w3.eth.get_block(cursor.block_number)["timestamp"])
    except Exception:
        at_cursor = None
    report.update(
        state="external",
        head_block=head_number,
        cursor_block=cursor.block_number,
        lag_blocks=max(0, head_number - cursor.block_number),
        lag_seconds=None if at_cursor is None else max(0, head_time - at_cursor),
        ok=True,
    )
    return report
