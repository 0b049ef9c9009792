"""The follower: reads the contract's logs range by range and applies each range, with its
cursor and block window, in one database transaction.

Invariants:
- the cursor names the last applied block by number and hash, and moves only with its logs;
- blocks of the unconfirmed window link by parent hash; when the cursor's block is no longer
  on chain, the index rolls back to the newest kept block that is (the common ancestor);
- a reorg below the kept window stops the follower (`ReorgTooDeepError`), never guesses.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, or_, select
from sqlalchemy.exc import OperationalError
from web3 import HTTPProvider, Web3

from lotlink.chain.decode import ChainLog, LogDecoder
from lotlink.chain.rpc import RpcClient
from lotlink.config import Settings
from lotlink.db.engine import READ_ONLY_OPTION, WRITER_PRIORITY_OPTION
from lotlink.errors import ChainReorgedError, ChainRpcError, LotlinkError, ReorgTooDeepError
from lotlink.indexer.anchors import count_unresolved, settle_batch
from lotlink.indexer.apply import apply_logs
from lotlink.indexer.cursor import (
    CURSOR_NAME,
    Cursor,
    forget_blocks_above,
    keep_blocks,
    kept_blocks,
    load_cursor,
    save_cursor,
    writer_lock,
)
from lotlink.indexer.faults import crash_point
from lotlink.indexer.fetch import Header, RangeFetcher
from lotlink.indexer.manifests import (
    BatchAnchor,
    ManifestResolver,
    ManifestResult,
    RetryPolicy,
    check_roles,
    describe,
)
from lotlink.indexer.registry import ApplyContext
from lotlink.indexer.rollback import rollback_to
from lotlink.indexer.sql import rows_where_in, table_of
from lotlink.models import (
    AppliedLog,
    Batch,
    BatchManifest,
    Checkpoint,
    IndexedBlock,
    IndexerCursor,
    ManifestStatus,
)
from lotlink.models.types import utc_now

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0


@dataclass
class FollowerStatus:
    """What /healthz shows of a running follower."""

    state: str = "starting"  # starting, waiting_for_lock, following, stopped, failed
    head_block: int | None = None
    head_time: int | None = None
    cursor_block: int | None = None
    cursor_time: int | None = None
    reorgs: int = 0
    retries: int = 0
    last_error: str | None = None
    manifest_problems: list[str] = field(default_factory=list)

    @property
    def lag_blocks(self) -> int | None:
        if self.head_block is None or self.cursor_block is None:
            return None
        return max(0, self.head_block - self.cursor_block)

    @property
    def lag_seconds(self) -> int | None:
        if self.head_time is None or self.cursor_time is None:
            return None
        return max(0, self.head_time - self.cursor_time)


class Follower:
    """Indexes one Lotlink deployment into one database."""

    def __init__(
        self,
        *,
        engine: Engine,
        rpc_url: str,
        address: str,
        start_block: int,
        abi: Sequence[dict[str, Any]],
        confirmations: int = 0,
        max_range: int = 2000,
        window: int = 128,
        poll_seconds: float = 0.5,
        manifests: ManifestResolver | None = None,
        manifest_retry: RetryPolicy | None = None,
        use_eth_abi: bool = False,
    ) -> None:
        # Its writes go first at SQLite's writer gate, as the anchorer's do: the index keeps up
        # with the chain however fast captures arrive.
        self.engine = engine.execution_options(**{WRITER_PRIORITY_OPTION: True})
        self.rpc = RpcClient(rpc_url)
        # For the signers' roles when the node keeps no state for a batch's block (a few reads
        # per batch: the lean client is not worth it there; see `check_roles`).
        self.w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": self.rpc.timeout}))
        self.fetcher = RangeFetcher(self.rpc, address, max_span=max_range)
        self.decoder = LogDecoder(abi, use_eth_abi=use_eth_abi)
        self.start_block = start_block
        self.confirmations = confirmations
        self.window = window
        self.poll_seconds = poll_seconds
        self.address = address.lower()
        self.manifests = manifests or ManifestResolver(None)
        self.manifest_retry = manifest_retry or RetryPolicy()
        self._chain_id: int | None = None
        self.status = FollowerStatus()

    @classmethod
    def from_settings(
        cls, settings: Settings, *, engine: Engine, address: str, start_block: int
    ) -> Follower:
        from lotlink.chain.compile import load_artifact

        return cls(
            engine=engine,
            rpc_url=settings.effective_rpc_url,
            address=address,
            start_block=start_block,
            abi=load_artifact("Lotlink").abi,
            confirmations=settings.confirmations,
            max_range=settings.indexer_max_range,
            window=settings.indexer_window,
            poll_seconds=settings.indexer_poll_seconds,
            manifests=ManifestResolver(
                settings.manifests_dir, timeout=settings.indexer_manifest_timeout_seconds
            ),
            manifest_retry=RetryPolicy(
                first=settings.indexer_manifest_retry_seconds,
                cap=settings.indexer_manifest_retry_max_seconds,
            ),
        )

    def close(self) -> None:
        self.rpc.close()

    # ------------------------------------------------------------------------------ one range

    def step(self) -> bool:
        """Apply the next range (or roll back a reorg); True while more is waiting."""
        head = self.fetcher.head()
        target = head - self.confirmations
        with self._reading() as conn:  # never the writer's turn just to read where it is
            cursor = load_cursor(conn)
        if cursor is None:
            cursor = self._initial_cursor()
        self.status.head_block = head
        if target <= cursor.block_number:
            now = self.fetcher.header(cursor.block_number)
            if now is None or now.hash != cursor.block_hash:
                self._roll_back_reorg(cursor)
                return True
            self.status.cursor_block = cursor.block_number
            self.status.cursor_time = now.timestamp
            self.status.head_time = now.timestamp if target == head else None
            if self.status.head_time is None:
                self.status.head_time = self._timestamp(head)
            return False

        first = cursor.block_number + 1
        to_block, pre, raws = self.fetcher.next_range(first, target, before=self.fetcher.header)
        crash_point("indexer_after_fetch")
        floor = max(first, target - self.window + 1)
        numbers = sorted({cursor.block_number, to_block, *range(floor, to_block + 1)})
        headers = self.fetcher.headers(numbers)
        now = headers[cursor.block_number]
        if now is None or now.hash != cursor.block_hash:
            self._roll_back_reorg(cursor)
            return True
        last = headers[to_block]
        if last is None or pre is None or last.hash != pre.hash:
            raise ChainReorgedError(block_number=to_block)
        kept = self._linked(headers, cursor, floor, to_block)
        logs = self.decoder.decode_all(raws)
        for entry in logs:
            known = headers.get(entry.block_number)
            if known is not None and known.hash != entry.block_hash.lower():
                raise ChainReorgedError(block_number=entry.block_number)
        self._fill_timestamps(logs, headers)
        manifests = self.resolve_manifests(logs)
        with self.engine.begin() as conn:
            ctx = ApplyContext(conn=conn, manifests=manifests, manifest_retry=self.manifest_retry)
            apply_logs(ctx, logs)
            save_cursor(conn, Cursor(to_block, last.hash))
            keep_blocks(conn, kept, floor=to_block - self.window + 1)
            crash_point("indexer_after_apply_before_commit")
        crash_point("indexer_after_commit")
        self._report(ctx)
        self.status.cursor_block = to_block
        self.status.cursor_time = last.timestamp
        self.status.head_time = last.timestamp if to_block == head else self._timestamp(head)
        return to_block < target

    def catch_up(self) -> None:
        """Apply ranges until the index reaches the confirmed head (no lock: callers hold it)."""
        while self.step():
            pass

    def _initial_cursor(self) -> Cursor:
        before = self.fetcher.header(self.start_block - 1)
        if before is None:
            raise LotlinkError(f"the chain has no block {self.start_block - 1}")
        return Cursor(self.start_block - 1, before.hash)

    def _linked(
        self, headers: dict[int, Header | None], cursor: Cursor, floor: int, to_block: int
    ) -> list[Header]:
        """The window's headers, checked to link by parent hash (else the chain moved)."""
        kept: list[Header] = []
        for number in range(floor, to_block + 1):
            header = headers[number]
            if header is None:
                raise ChainReorgedError(block_number=number)
            if number == cursor.block_number + 1:
                parent_hash: str | None = cursor.block_hash
            else:
                parent = headers.get(number - 1)
                parent_hash = None if parent is None else parent.hash
            if parent_hash is not None and header.parent_hash != parent_hash:
                raise ChainReorgedError(block_number=number)
            kept.append(header)
        last = headers[to_block]
        if last is not None and (not kept or kept[-1].number != to_block):
            kept.append(last)
        return kept

    def _fill_timestamps(self, logs: list[ChainLog], headers: dict[int, Header | None]) -> None:
        """Block times for logs whose endpoint did not include ``blockTimestamp``."""
        missing = sorted({e.block_number for e in logs if e.timestamp is None} - headers.keys())
        if missing:
            headers = {**headers, **self.fetcher.headers(missing)}
        for entry in logs:
            if entry.timestamp is None:
                header = headers.get(entry.block_number)
                if header is None:
                    raise ChainReorgedError(block_number=entry.block_number)
                entry.timestamp = header.timestamp

    def _timestamp(self, number: int) -> int | None:
        header = self.fetcher.header(number)
        return None if header is None else header.timestamp

    def _report(self, ctx: ApplyContext) -> None:
        for problem in ctx.report.manifest_problems:
            log.warning("indexer: %s", problem)
        if ctx.report.rebuilt:
            log.info("indexer: %d events rebuilt from batch manifests", ctx.report.rebuilt)
        self.status.manifest_problems = (
            self.status.manifest_problems + ctx.report.manifest_problems
        )[-20:]

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.rpc.call("eth_chainId", []), 16)
        return self._chain_id

    def resolve_manifest(self, anchor: BatchAnchor) -> ManifestResult:
        """The manifest of `anchor`, fetched and checked, signers' roles asked of the chain."""
        result = self.manifests.resolve(
            anchor,
            chain_id=self.chain_id,
            contract=self.address,
            held=self._held,
            stored=lambda: self._stored_manifest(anchor.root),
        )
        try:
            return check_roles(
                self.rpc, self.w3, self.address, result, block_number=anchor.block_number
            )
        except ChainRpcError as error:
            # The endpoint failed while the roles were read: this batch waits for a retry; the
            # other logs go on.
            return ManifestResult(
                ManifestStatus.UNAVAILABLE,
                reason=f"the signers' roles at block {anchor.block_number} could not be read: "
                f"{error}",
                source=result.source,
            )

    def _stored_manifest(self, root: str) -> bytes | None:
        """The manifest this database keeps for batch `root` (its anchorer's), if any."""
        manifest = table_of(BatchManifest)
        with self._reading() as conn:
            text = conn.execute(select(manifest.c.content).where(manifest.c.root == root)).scalar()
        return None if text is None else text.encode("utf-8")

    def _held(self, digests: list[str]) -> dict[str, tuple[str, str, str, str]]:
        columns = ("epcis_json", "signature", "signer_address", "primary_lot_key")
        with self._reading() as conn:
            rows = rows_where_in(conn, table_of(Checkpoint), "digest", digests, columns)
        return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}

    def resolve_manifests(self, logs: list[ChainLog]) -> dict[str, ManifestResult]:
        """Manifests of the range's batches, fetched before the database transaction opens."""
        return {
            e.args["root"]: self.resolve_manifest(BatchAnchor.of_log(e))
            for e in logs
            if e.name == "BatchAnchored"
        }

    # ------------------------------------------------------------------------ manifest retries

    def retry_manifests(self, *, limit: int = 8, now: datetime | None = None) -> int:
        """Try again the anchored batches whose manifests are unresolved and due (their backoff
        ran out), at most `limit` of them, each in its own transaction; returns how many were
        tried. Runs between ranges, so an unavailable manifest never holds up other logs."""
        batch = table_of(Batch)
        applied = table_of(AppliedLog)
        retried = [status.value for status in ManifestStatus if status.retried]
        with self._reading() as conn:
            due = conn.execute(
                select(
                    batch.c.root, batch.c.manifest_hash, batch.c.manifest_uri,
                    batch.c.event_count, batch.c.tx_hash, batch.c.block_number,
                    batch.c.log_index, batch.c.anchored_at, applied.c.block_hash,
                )
                .join(applied, (applied.c.tx_hash == batch.c.tx_hash)
                      & (applied.c.log_index == batch.c.log_index))
                .where(
                    batch.c.manifest_status.in_(retried),
                    batch.c.block_number.is_not(None),
                    or_(batch.c.manifest_retry_at.is_(None),
                        batch.c.manifest_retry_at <= (now or utc_now())),
                )
                .order_by(batch.c.block_number, batch.c.log_index)
                .limit(limit)
            ).all()  # fmt: skip
        for row in due:
            anchor = BatchAnchor(
                root=row.root,
                manifest_hash=row.manifest_hash,
                manifest_uri=row.manifest_uri or "",
                count=row.event_count,
                tx_hash=row.tx_hash,
                block_number=row.block_number,
                block_hash=row.block_hash,
                log_index=row.log_index,
                timestamp=int(row.anchored_at.timestamp()),
            )
            result = self.resolve_manifest(anchor)
            with self.engine.begin() as conn:
                ctx = ApplyContext(conn=conn, manifest_retry=self.manifest_retry)
                status = settle_batch(ctx, anchor, result)
            self._report(ctx)
            if status is ManifestStatus.VERIFIED:
                log.info("indexer: %s", describe(result, anchor).replace(": None", ""))
        return len(due)

    def unresolved_manifests(self) -> int:
        """Anchored batches whose events are not indexed: their manifests are not verified."""
        with self._reading() as conn:
            return count_unresolved(conn)

    def _reading(self) -> Connection:
        """A connection that only reads: on SQLite it never queues behind a writer."""
        return self.engine.connect().execution_options(**{READ_ONLY_OPTION: True})

    # ---------------------------------------------------------------------------------- reorgs

    def _roll_back_reorg(self, cursor: Cursor) -> None:
        with self._reading() as conn:
            kept = kept_blocks(conn)
        chain = self.fetcher.headers([number for number, _ in kept])
        ancestor = next(
            (
                (number, block_hash)
                for number, block_hash in kept
                if (found := chain.get(number)) is not None and found.hash == block_hash
            ),
            None,
        )
        if ancestor is None:
            oldest = kept[-1][0] if kept else cursor.block_number
            raise ReorgTooDeepError(oldest_kept=oldest, window=self.window)
        number, block_hash = ancestor
        log.warning(
            "indexer: reorg: block %d is no longer %s; rolling back to block %d",
            cursor.block_number, cursor.block_hash, number,
        )  # fmt: skip
        with self.engine.begin() as conn:
            rollback_to(
                conn, number, start_block=self.start_block, decoder=self.decoder,
                history=self._history,
            )  # fmt: skip
            forget_blocks_above(conn, number)
            save_cursor(conn, Cursor(number, block_hash))
        self.status.reorgs += 1

    def _history(self, from_block: int, to_block: int, topics: list[Any]) -> list[ChainLog]:
        logs = self.decoder.decode_all(
            self.fetcher.logs_between(from_block, to_block, topics=topics)
        )
        self._fill_timestamps(logs, {})
        return logs

    # ----------------------------------------------------------------------------- rebuilding

    def reset(self) -> None:
        """Forget the whole index (`lotlink reindex`); the next step starts at the deployment."""
        with self.engine.begin() as conn:
            rollback_to(
                conn, self.start_block - 1, start_block=self.start_block,
                decoder=self.decoder, history=self._history,
            )  # fmt: skip
            conn.execute(delete(table_of(IndexedBlock)))
            conn.execute(
                delete(table_of(IndexerCursor)).where(table_of(IndexerCursor).c.name == CURSOR_NAME)
            )

    # ------------------------------------------------------------------------------ the loop

    def run(self, stop: threading.Event) -> None:
        """Follow the chain until `stop` is set; retryable faults back off, others stop it."""
        self.status.state = "waiting_for_lock"
        with writer_lock(self.engine, stop=stop, poll=self.poll_seconds) as held:
            if not held:
                self.status.state = "stopped"
                return
            self.status.state = "following"
            backoff = self.poll_seconds
            while not stop.is_set():
                try:
                    more = self.step()
                    self.retry_manifests()
                except (LotlinkError, OperationalError) as error:
                    retryable = isinstance(error, OperationalError) or error.retryable
                    message = str(error).splitlines()[0]
                    self.status.last_error = message
                    if not retryable:
                        log.error("indexer stopped: %s", message)
                        self.status.state = "failed"
                        raise
                    self.status.retries += 1
                    log.warning("indexer: %s; retrying in %.1fs", message, backoff)
                    stop.wait(backoff)
                    backoff = min(MAX_BACKOFF_SECONDS, backoff * 2)
                    continue
                except Exception as error:
                    self.status.last_error = f"{type(error).__name__}: {error}".splitlines()[0]
                    self.status.state = "failed"
                    log.exception("indexer stopped by an unexpected error")
                    raise
                backoff = self.poll_seconds
                self.status.last_error = None
                if not more:
                    stop.wait(self.poll_seconds)
            self.status.state = "stopped"


class FollowerThread:
    """A follower on a daemon thread, as the service runs it."""

    def __init__(self, follower: Follower) -> None:
        self.follower = follower
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lotlink-indexer", daemon=True)

    @property
    def status(self) -> FollowerStatus:
        return self.follower.status

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self.follower.run(self._stop)
        except Exception:  # already logged and recorded in the status
            time.sleep(0)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self.follower.close()
