"""`lotlink bench …`: benchmarks whose figures go in the README."""

import typer

app = typer.Typer(help="Benchmarks; their figures go in the README.", no_args_is_help=True)
