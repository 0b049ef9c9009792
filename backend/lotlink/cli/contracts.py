"""`lotlink contracts …`: compile the Solidity sources into committed artifacts."""

from __future__ import annotations

import typer

from lotlink.chain.compile import check_artifacts_fresh, compile_contracts
from lotlink.config import PROJECT_ROOT, get_settings

app = typer.Typer(help="Compile and check the Solidity contracts.", no_args_is_help=True)


def _shown(path: object) -> str:
    text = str(path)
    root = str(PROJECT_ROOT) + "/"
    return text.removeprefix(root)


@app.command("compile")
def compile_command() -> None:
    """Compile contracts/src into contracts/build/<Name>.json (commit the result).

    Compiler: LOTLINK_SOLC_BINARY, else the pinned solc on PATH, else solcjs from node_modules.
    """
    settings = get_settings()
    result = compile_contracts(settings=settings)
    for warning in result.warnings:
        typer.secho(f"warning: {warning}", err=True, fg=typer.colors.YELLOW)
    names = ", ".join(artifact.name for artifact in result.artifacts)
    typer.echo(f"compiled {names} with solc {result.compiler} into {_shown(settings.build_dir)}")


@app.command("check")
def check_command() -> None:
    """Fail (exit status 1) when contracts/build does not match contracts/src; needs no compiler."""
    settings = get_settings()
    artifacts = check_artifacts_fresh(settings=settings)
    names = ", ".join(artifact.name for artifact in artifacts) or "no contracts"
    typer.echo(f"artifacts are fresh: {names}")
