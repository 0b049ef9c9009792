"""`lotlink bench …`: benchmarks whose figures go in the README."""

import typer

app = typer.Typer(help="Benchmarks; their figures go in the README.", no_args_is_help=True)


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
    typer.echo(f"speed-up: {figures['speedup']:.1f}x; identical hashes: {figures['equal']}")
