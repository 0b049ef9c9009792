"""`lotlink chain …` and `lotlink deploy`: the managed local chain and the contracts' deployment."""

import typer

app = typer.Typer(help="Run the managed local chain (anvil).", no_args_is_help=True)


def deploy() -> None:
    """Deploy the contracts once per chain and record the deployment under var/."""
    raise NotImplementedError
