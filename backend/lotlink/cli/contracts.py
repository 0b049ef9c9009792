"""`lotlink contracts …`: compile the Solidity sources into committed artifacts."""

import typer

app = typer.Typer(help="Compile and check the Solidity contracts.", no_args_is_help=True)
