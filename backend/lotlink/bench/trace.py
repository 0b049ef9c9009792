"""`lotlink bench trace`: downstream traces of raw lots in a synthetic index of `lots` lots, on
SQLite and on PostgreSQL, with the service's own `lotlink.services.trace.trace`.

The index is generated straight into the tables (`lotlink.bench.graph`, `lotlink.bench.bulk`);
no chain is involved, since a trace reads the index alone. SQLite databases are kept under
``var/bench/`` keyed by size, seed, generator version and schema revision, so a second run
skips generation. PostgreSQL gets a scratch database on the server `database_url` names, or on
a throwaway cluster started for the run, and is generated each time.

Each run traces `roots` raw lots (a seeded sample) once to warm the caches, then `repeat` times
each, timed, every trace in its own read-only session as a request would be.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from lotlink.bench.bulk import load_tables
from lotlink.bench.graph import GENERATOR_VERSION, SupplyGraph, raw_gtin
from lotlink.db import head_revision, make_engine, upgrade_database
from lotlink.db.cluster import scratch_database, throwaway_cluster
from lotlink.db.engine import make_read_session_factory
from lotlink.models import Checkpoint, LineageEdge, Lot
from lotlink.services.trace import Direction, trace

BACKENDS = ("sqlite", "postgres")


@dataclass(frozen=True, slots=True)
class Spread:
    """Smallest, median and largest of a per-trace count."""

    low: int
    median: float
    high: int

    @classmethod
    def of(cls, values: list[int]) -> Spread:
        return cls(min(values), statistics.median(values), max(values))


@dataclass(frozen=True, slots=True)
class TraceFigures:
    backend: str
    lots: int
    lineage_edges: int
    events: int
    generated_seconds: float | None  # None: a cached database was reused
    database: str  # where it is (a path, or "scratch database on …")
    traces: int
    median_ms: float
    p90_ms: float
    max_ms: float
    trace_lots: Spread
    trace_edges: Spread
    trace_shipments: Spread
    queries: int


def _generate(url: str, lots: int, seed: int) -> None:
    upgrade_database(url)
    load_tables(url, SupplyGraph(lots, seed=seed).tables())


def sqlite_database(cache: Path, lots: int, seed: int) -> tuple[str, float | None]:
    """The cached SQLite database for these parameters, generated first if missing; its URL
    and how long generation took (None when it was reused)."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"trace-{lots}-seed{seed}-g{GENERATOR_VERSION}-{head_revision()}.db"
    if path.exists():
        return f"sqlite:///{path}", None
    building = path.with_suffix(".building")
    for leftover in cache.glob(building.name + "*"):
        leftover.unlink()
    began = time.perf_counter()
    _generate(f"sqlite:///{building}", lots, seed)
    building.rename(path)  # only a complete database ever carries the cache's name
    return f"sqlite:///{path}", time.perf_counter() - began


@contextmanager
def postgres_database(server_url: str | None, lots: int, seed: int) -> Iterator[tuple[str, float]]:
    """A scratch database holding the graph, on `server_url` or on a throwaway cluster."""
    with (
        nullcontext(server_url) if server_url else throwaway_cluster() as server,
        scratch_database(server, prefix="lotlink_bench_trace") as url,
    ):
        began = time.perf_counter()
        _generate(url, lots, seed)
        yield url, time.perf_counter() - began


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[round(fraction * (len(ordered) - 1))]


def measure_database(
    url: str,
    *,
    backend: str,
    roots: int,
    repeat: int,
    seed: int,
    generated_seconds: float | None,
    database: str,
) -> TraceFigures:
    """Times downstream traces of `roots` raw lots of the graph at `url`, `repeat` times each."""
    engine = make_engine(url)
    sessions = make_read_session_factory(engine)
    try:
        with sessions() as session:
            raw = list(
                session.scalars(
                    select(Lot.lot_key).where(Lot.gtin == raw_gtin()).order_by(Lot.lot_key)
                )
            )
            counts = [
                int(session.scalar(select(func.count()).select_from(table)) or 0)
                for table in (Lot, LineageEdge, Checkpoint)
            ]
        picked = random.Random(seed).sample(raw, min(roots, len(raw)))
        sizes: dict[str, list[int]] = {"lots": [], "edges": [], "shipments": []}
        queries = 0
        for key in picked:  # warm-up, and the traces' sizes
            with sessions() as session:
                found = trace(session, key, Direction.DOWNSTREAM)
            sizes["lots"].append(len(found.lots))
            sizes["edges"].append(len(found.edges))
            sizes["shipments"].append(len(found.shipments))
            queries = found.queries
        timings: list[float] = []
        for _ in range(repeat):
            for key in picked:
                began = time.perf_counter()
                with sessions() as session:
                    trace(session, key, Direction.DOWNSTREAM)
                timings.append((time.perf_counter() - began) * 1000)
    finally:
        engine.dispose()
    timings.sort()
    return TraceFigures(
        backend=backend,
        lots=counts[0],
        lineage_edges=counts[1],
        events=counts[2],
        generated_seconds=generated_seconds,
        database=database,
        traces=len(timings),
        median_ms=statistics.median(timings),
        p90_ms=_percentile(timings, 0.9),
        max_ms=timings[-1],
        trace_lots=Spread.of(sizes["lots"]),
        trace_edges=Spread.of(sizes["edges"]),
        trace_shipments=Spread.of(sizes["shipments"]),
        queries=queries,
    )


def measure_trace(
    *,
    lots: int,
    backends: tuple[str, ...] = BACKENDS,
    database_url: str | None = None,
    cache: Path,
    roots: int = 50,
    repeat: int = 5,
    seed: int = 6,
) -> list[TraceFigures]:
    """Runs the benchmark on each backend in turn; returns their figures."""
    figures = []
    timing = {"roots": roots, "repeat": repeat, "seed": seed}
    for backend in backends:
        if backend == "sqlite":
            url, seconds = sqlite_database(cache, lots, seed)
            where = url.removeprefix("sqlite:///")
            figures.append(
                measure_database(url, backend=backend, generated_seconds=seconds, database=where,
                                 **timing)
            )  # fmt: skip
            continue
        with postgres_database(database_url, lots, seed) as (url, seconds):
            server = "the server given" if database_url else "a throwaway cluster"
            where = f"scratch database on {server}"
            figures.append(
                measure_database(url, backend=backend, generated_seconds=seconds, database=where,
                                 **timing)
            )  # fmt: skip
    return figures
