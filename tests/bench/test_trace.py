"""`lotlink bench trace` at a tiny size: the synthetic graph is a real index (lot keys, hash
chains, lineage, shipments the trace matches), the benchmark traces it on both backends and its
report adds up. Times are not asserted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from lotlink.bench.graph import SupplyGraph, raw_gtin
from lotlink.bench.trace import TraceFigures, measure_trace, sqlite_database
from lotlink.db import make_engine, make_session_factory
from lotlink.gs1.keys import lot_key
from lotlink.models import CheckpointLot, LineageEdge, Lot
from lotlink.services.trace import Direction, trace

LOTS = 230


def _sane(f: TraceFigures, *, roots: int, repeat: int) -> None:
    graph = SupplyGraph(LOTS)
    assert (f.lots, f.lineage_edges) == (LOTS, len(graph.edges))
    assert f.events > 2 * LOTS  # every lot has at least a shipment and its receipt
    assert f.traces == roots * repeat and f.queries == 4
    assert 0 < f.median_ms <= f.p90_ms <= f.max_ms
    # A raw lot's downstream reaches intermediates, finished lots and their retail sub-lots.
    assert f.trace_lots.high > 20 and f.trace_lots.low <= f.trace_lots.median
    assert f.trace_edges.high >= f.trace_lots.high - 1
    assert f.trace_shipments.high > 10


def test_the_graph_is_a_real_index_and_traces_through_every_layer(tmp_path: Path) -> None:
    url, seconds = sqlite_database(tmp_path, LOTS, 6)
    assert seconds is not None
    sessions = make_session_factory(make_engine(url))
    with sessions() as session:
        lots = list(session.scalars(select(Lot)))
        assert len(lots) == LOTS
        for lot in lots[:: LOTS // 10]:
            assert lot.lot_key == "0x" + lot_key(lot.gtin, lot.lot_code).hex()
        # Each lot's events link first to head, and the head is the lot's head_digest.
        links = list(session.scalars(select(CheckpointLot)))
        following = {(link.lot_key, link.prev_digest): link.checkpoint_digest for link in links}
        for lot in lots:
            current, head = None, None
            while (lot.lot_key, current) in following:
                head = current = following[(lot.lot_key, current)]
            assert head == lot.head_digest
        edges = session.scalars(select(LineageEdge)).all()
        assert all(edge.unit in {"KGM", "H87"} for edge in edges)
        root = next(lot for lot in lots if lot.gtin == raw_gtin() and lot.lot_code == "R0000000")
        found = trace(session, root.lot_key, Direction.DOWNSTREAM)
    assert {lot.depth for lot in found.lots} == {0, 1, 2, 3}
    assert all(0 < lot.share <= 1 for lot in found.lots)
    retail = [s for s in found.shipments if s.lot_key not in {root.lot_key}]
    assert retail and all(s.shipped and s.received for s in found.shipments)
    assert all(s.received_milli <= s.shipped_milli for s in retail)  # type: ignore[operator]
    # A second call reuses the database generated for the same parameters.
    assert sqlite_database(tmp_path, LOTS, 6) == (url, None)


def test_bench_trace_on_sqlite_reports_sizes_and_timings(tmp_path: Path) -> None:
    (figures,) = measure_trace(lots=LOTS, backends=("sqlite",), cache=tmp_path, roots=4, repeat=2)
    assert figures.backend == "sqlite" and figures.generated_seconds is not None
    _sane(figures, roots=4, repeat=2)


@pytest.mark.postgres
def test_bench_trace_on_postgres_reports_sizes_and_timings(
    postgres_url: str, tmp_path: Path
) -> None:
    (figures,) = measure_trace(
        lots=LOTS,
        backends=("postgres",),
        database_url=postgres_url,
        cache=tmp_path,
        roots=4,
        repeat=2,
    )
    assert figures.backend == "postgres" and "server given" in figures.database
    _sane(figures, roots=4, repeat=2)


def _lotlink(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOTLINK_VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "lotlink.cli", "bench", "trace", *args],
        capture_output=True, text=True, env=env, timeout=240, check=False,
    )  # fmt: skip


def test_the_command_prints_a_row_per_backend_and_refuses_bad_options(tmp_path: Path) -> None:
    done = _lotlink(tmp_path, "--lots", str(LOTS), "--backend", "sqlite", "--roots", "3")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"sqlite: {LOTS} lots,") and "generated in" in lines[0]
    assert any(line.split()[:2] == ["sqlite", "15"] for line in lines)  # 3 roots x 5 rounds
    assert list((tmp_path / "bench").glob(f"trace-{LOTS}-*.db"))
    bad = _lotlink(tmp_path, "--lots", str(LOTS), "--backend", "oracle")
    assert bad.returncode == 1 and "--backend" in bad.stderr and "Traceback" not in bad.stderr
