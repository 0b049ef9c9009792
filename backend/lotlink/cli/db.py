"""`lotlink db …`: migrate the database."""

import typer

app = typer.Typer(help="Create and migrate the database.", no_args_is_help=True)
