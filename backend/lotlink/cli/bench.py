"""`lotlink bench …`: benchmarks whose figures go in the README."""

import signal
import time

import typer

app = typer.Typer(help="Benchmarks; their figures go in the README.", no_args_is_help=True)


@app.callback()
def _stop_cleanly_on_sigterm() -> None:
    # A benchmark starts anvil, PostgreSQL or uvicorn; SIGTERM (`timeout`, CI) must unwind the
    # context managers that stop them rather than leave them running.
    from lotlink.cli.serve import exit_on_sigterm

    signal.signal(signal.SIGTERM, exit_on_sigterm)


@app.command("gas")
def gas() -> None:
    """Measure the gas of every contract write on a fresh local chain and print a table."""
    from lotlink.bench.gas import format_table, measure_gas

    typer.echo(format_table(measure_gas()))


@app.command("event-hash")
def event_hash(
    events: int = typer.Option(2000, "--events", min=1, help="How many generated events to hash."),
) -> None:
    """Hash generated EPCIS events with Lotlink's CBV 2.0 event hash and with GS1's reference
    implementation (a development dependency) side by side; check they agree on every event."""
    from lotlink.bench.event_hash import measure_event_hash

    figures = measure_event_hash(events)
    typer.echo(f"events hashed:                {figures['events']:,}")
    typer.echo(
        f"lotlink, one event at a time: {figures['ours_per_event_events_per_s']:,.0f} events/s"
    )
    typer.echo(
        f"lotlink, whole document:      {figures['ours_document_events_per_s']:,.0f} events/s"
    )
    typer.echo(f"GS1 reference 1.9.3:          {figures['reference_events_per_s']:,.0f} events/s")
    typer.echo(
        f"lotlink, service-built checkpoints, one at a time: "
        f"{figures['checkpoints_events_per_s']:,.0f} events/s "
        f"({figures['checkpoints_us_per_event']:.1f} µs/event)"
    )
    typer.echo(f"speed-up: {figures['speedup']:.1f}x; identical hashes: {figures['equal']}")


@app.command("validation")
def validation(
    events: int = typer.Option(50, "--events", min=1, help="Events in the capture document."),
) -> None:
    """Validate one generated capture document against GS1's EPCIS 2.0 JSON Schema with
    python-jsonschema alone (before issue #3), jsonschema-rs alone and validate_document (now);
    print µs per event of each, and of a document it rejects."""
    from lotlink.bench.validation import measure_validation

    f = measure_validation(events)
    typer.echo(f"capture document of {f.events:,} generated events; µs per event, best of 5")
    typer.echo(f"python-jsonschema alone (before):  {f.python_jsonschema_us:9,.1f}")
    typer.echo(f"jsonschema-rs alone:               {f.jsonschema_rs_us:9,.1f}")
    typer.echo(
        f"validate_document (now):           {f.validate_document_us:9,.1f}  "
        f"({f.python_jsonschema_us / f.validate_document_us:,.0f}x faster)"
    )
    typer.echo(
        f"validate_document, one bad event:  {f.rejected_us:9,.1f}  (rejected at {f.rejected_path})"
    )


@app.command("anchor")
def anchor(
    events: int = typer.Option(10_000, "--events", min=1, help="Events in the burst run."),
    clients: int = typer.Option(32, "--clients", min=1, help="Concurrent clients."),
    per_request: int = typer.Option(
        50, "--per-request", min=1, max=1000, help="Events per capture document in the burst."
    ),
    rate: int = typer.Option(500, "--rate", min=1, help="Events/s of the steady run."),
    seconds: int = typer.Option(10, "--seconds", min=1, help="Duration of the steady run."),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        max=64,
        help="Web workers of the service; default `lotlink serve`'s (one per CPU core).",
    ),
) -> None:
    """POST signed EPCIS capture documents to the service (`lotlink serve` on a fresh anvil and
    SQLite) from concurrent clients until every receipt is stored: a burst, then a steady rate;
    print throughput and POST-to-receipt latency beside the chain's raw ceiling."""
    from lotlink.bench.anchor import measure_anchor

    f = measure_anchor(
        events,
        clients,
        per_request=per_request,
        rate=rate,
        seconds=seconds,
        workers=workers,
        progress=lambda line: typer.echo(f"{time.strftime('%H:%M:%S')} … {line}", err=True),
    )
    typer.echo(
        f"service: lotlink serve with {f.workers} web worker{'s' if f.workers > 1 else ''} on "
        f"{f.cores} cores"
    )
    typer.echo(
        f"burst: {f.events:,} events from {f.clients} clients, {f.per_request} per capture "
        "document, client-signed"
    )
    typer.echo(f"  accepted (POST answered):  {f.burst_accepted_per_s:,.0f} events/s")
    typer.echo(f"  anchored (receipt stored): {f.burst_anchored_per_s:,.0f} events/s")
    typer.echo(f"  POST->receipt: p50 {f.burst_p50_s:.2f} s, p95 {f.burst_p95_s:.2f} s")
    cpu = f.burst_cpu_us_per_event
    parts = ", ".join(f"{name} {us:,.0f}" for name, us in cpu.items())
    typer.echo(f"  CPU µs per event: {parts}; all {sum(cpu.values()):,.0f}")
    if len(f.burst_worker_shares) > 1:
        shares = " / ".join(f"{share:.0%}" for share in f.burst_worker_shares)
        typer.echo(f"  web workers' shares of their CPU: {shares}")
    typer.echo(f"steady: {f.steady_events:,} events at {f.steady_rate:,} events/s")
    typer.echo(
        f"  POST->receipt: p50 {f.steady_p50_s:.2f} s, p95 {f.steady_p95_s:.2f} s, "
        f"max {f.steady_max_s:.2f} s"
    )
    typer.echo(f"raw chain ceiling: {f.raw_chain_tx_per_s:,.0f} signed tx/s (JSON-RPC batches)")


@app.command("index")
def index(
    events: int = typer.Option(100_000, "--events", min=1, help="Contract events to index."),
) -> None:
    """Fill a fresh anvil with contract events, index them from scratch into a fresh SQLite
    database (fetch, decode and write), and decode the same logs with web3.py beside it."""
    from lotlink.bench.index import measure_index

    f = measure_index(events)
    typer.echo(
        f"chain: {f.events:,} events ({f.lots:,} LotRegistered, {f.checkpoints:,} "
        f"CheckpointRecorded) in {f.blocks:,} blocks, filled in {f.fill_seconds:.1f} s"
    )
    rows = ", ".join(f"{table} {count:,}" for table, count in f.rows_written.items())
    typer.echo(
        f"index into SQLite (fetch + decode + write): {f.index_seconds:.2f} s, "
        f"{f.index_per_s:,.0f} events/s ({rows}; refused ranges {f.refusals})"
    )
    typer.echo(f"decode only, lotlink per-signature plan:    {f.ours_decode_per_s:,.0f} events/s")
    typer.echo(
        f"decode only, eth_abi precomputed decoders: {f.ours_eth_abi_decode_per_s:,.0f} events/s"
    )
    typer.echo(f"decode only, web3.py process_log:          {f.web3_decode_per_s:,.0f} events/s")


@app.command("scan")
def scan(
    lots: int = typer.Option(50, "--lots", min=1, help="Lots to seed (4 checkpoints each)."),
    connections: int = typer.Option(64, "--connections", min=1, help="Concurrent connections."),
    seconds: int = typer.Option(10, "--seconds", min=1, help="Duration of each load run."),
    workers: int = typer.Option(2, "--workers", min=1, help="uvicorn worker processes."),
) -> None:
    """Serve scan pages from a freshly seeded index under uvicorn and load them with wrk,
    beside a bare endpoint of the same app in the same run."""
    from lotlink.bench.scan import measure_scan

    figures = measure_scan(lots=lots, connections=connections, seconds=seconds, workers=workers)
    typer.echo(f"uvicorn --workers {workers}, wrk -t1 -c{connections} -d{seconds}s")
    header = ("endpoint", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors")
    typer.echo("{:<32} {:>9} {:>8} {:>8} {:>8} {:>7}".format(*header))
    runs = (
        ("bare (/.well-known/gs1resolver)", figures["bare"]),
        (f"scan pages ({lots} lots)", figures["scan"]),
        (f"serial pages ({4 * lots}, recorded)", figures["serial"]),
    )
    for name, run in runs:
        typer.echo(
            f"{name:<32} {run.requests_per_s:>9,.0f} {run.p50_ms:>8.1f} {run.p90_ms:>8.1f} "
            f"{run.p99_ms:>8.1f} {run.errors:>7}"
        )


@app.command("trace")
def trace(
    lots: int = typer.Option(1_000_000, "--lots", min=23, help="Lots in the synthetic graph."),
    backend: str = typer.Option(
        "both", "--backend", help="sqlite, postgres or both.", show_default=True
    ),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="A PostgreSQL server to run on, in a scratch database it creates and drops "
        "(default: a throwaway cluster started for the run).",
    ),
    roots: int = typer.Option(50, "--roots", min=1, help="Raw lots to trace."),
    repeat: int = typer.Option(5, "--repeat", min=1, help="Timed traces of each root."),
) -> None:
    """Generate a synthetic index of LOTS lots (raw → intermediate → finished → retail sub-lots,
    with shipments) straight into the tables, then time downstream traces of raw lots with the
    service's trace, on SQLite (cached under var/bench/) and PostgreSQL."""
    from lotlink.bench.trace import BACKENDS, measure_trace
    from lotlink.config import get_settings
    from lotlink.db import normalize_database_url
    from lotlink.errors import InvalidInputError

    chosen = BACKENDS if backend == "both" else (backend,)
    if not set(chosen) <= set(BACKENDS):
        raise InvalidInputError(field="--backend", reason="must be sqlite, postgres or both")
    if database_url is not None:
        if normalize_database_url(database_url).get_backend_name() != "postgresql":
            raise InvalidInputError(field="--database-url", reason="must be a postgresql:// URL")
        if "postgres" not in chosen:
            raise InvalidInputError(field="--database-url", reason="needs --backend postgres")
    figures = measure_trace(
        lots=lots,
        backends=chosen,
        database_url=database_url,
        cache=get_settings().var_dir / "bench",
        roots=roots,
        repeat=repeat,
    )
    for f in figures:
        made = (
            "reused"
            if f.generated_seconds is None
            else f"generated in {f.generated_seconds:,.1f} s"
        )
        typer.echo(
            f"{f.backend}: {f.lots:,} lots, {f.lineage_edges:,} lineage edges, {f.events:,} "
            f"events; {made} ({f.database})"
        )
    header = ("backend", "traces", "median ms", "p90 ms", "max ms", "lots", "edges", "shipments")
    typer.echo("{:<9} {:>6} {:>9} {:>7} {:>7} {:>14} {:>14} {:>14}".format(*header))
    for f in figures:
        sizes = [
            f"{s.median:g} ({s.low}-{s.high})"
            for s in (f.trace_lots, f.trace_edges, f.trace_shipments)
        ]
        typer.echo(
            f"{f.backend:<9} {f.traces:>6} {f.median_ms:>9.1f} {f.p90_ms:>7.1f} "
            f"{f.max_ms:>7.1f} {sizes[0]:>14} {sizes[1]:>14} {sizes[2]:>14}"
        )
    typer.echo(
        f"downstream traces of {roots} raw lots, {repeat} timed rounds after one warm-up; "
        f"{figures[0].queries} SQL queries per trace; sizes: median (smallest-largest)"
    )


@app.command("verify")
def verify(
    events: int = typer.Option(10_000, "--events", min=10, help="Events in the bundle."),
    lots: int = typer.Option(200, "--lots", min=1, help="Formula lots made from the milk lot."),
    repeat: int = typer.Option(3, "--repeat", min=1, help="Verifications to time."),
) -> None:
    """Write EVENTS events through the API on a fresh anvil (anchored in Merkle batches,
    indexed), export the milk lot's evidence bundle, and time `lotlink verify`'s checks of it
    against the chain."""
    from lotlink.bench.verify import measure_verify

    f = measure_verify(events=events, lots=min(lots, events), repeat=repeat)
    typer.echo(
        f"bundle: {f.events:,} events of {f.lots:,} lots in {f.batches:,} Merkle batches, "
        f"{f.bundle_bytes / 1e6:,.1f} MB; written, anchored and indexed in {f.seed_seconds:,.0f} s"
    )
    typer.echo(f"checks: {f.checks:,}, failed: {f.failures:,}")
    runs = ", ".join(f"{s:.2f}" for s in f.verify_seconds)
    typer.echo(f"verify: median {f.median_seconds:.2f} s ({runs} s)")


@app.command("alerts")
def alerts(
    products: int = typer.Option(20, "--products", min=1, help="GTINs in the synthetic market."),
    lots: int = typer.Option(1_000, "--lots", min=2, help="Lots per product."),
    bad: int = typer.Option(
        5, "--bad", min=0, help="Lots per product complained of at ten times the normal rate."
    ),
    arrivals: int = typer.Option(200, "--arrivals", min=1, help="Report arrivals to time."),
) -> None:
    """Generate PRODUCTS x LOTS shipped lots with consumers' complaints (some lots at ten
    times the normal rate) in a fresh SQLite database, then time the complaint rules: one
    report's arrival, and the sweep over every product; say what they flagged."""
    from lotlink.bench.alerts import measure_alerts

    f = measure_alerts(products=products, lots=lots, bad=min(bad, lots), arrivals=arrivals)
    typer.echo(
        f"market: {f.products:,} products, {f.lots:,} lots, {f.shipments:,} shipments, "
        f"{f.complaints:,} complaints; generated in {f.generated_seconds:,.1f} s"
    )
    typer.echo(
        f"report arrival (rules on its lot, commit): median {f.arrival_median_ms:.1f} ms, "
        f"p90 {f.arrival_p90_ms:.1f} ms over {f.arrivals} arrivals"
    )
    typer.echo(f"sweep of every product: {f.sweep_seconds:.2f} s")
    typer.echo(
        f"rate rule (p < 0.001): {f.bad_flagged} of {f.bad_lots} lots at ten times the rate "
        f"flagged; {f.normal_flagged} of {f.normal_lots:,} normal lots flagged by chance"
    )
