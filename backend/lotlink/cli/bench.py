"""`lotlink bench …`: benchmarks whose figures go in the README."""

import typer

app = typer.Typer(help="Benchmarks; their figures go in the README.", no_args_is_help=True)


@app.command("gas")
def gas() -> None:
    """Measure the gas of every contract write on a fresh local chain and print a table."""
    from lotlink.bench.gas import format_table, measure_gas

    typer.echo(format_table(measure_gas()))
