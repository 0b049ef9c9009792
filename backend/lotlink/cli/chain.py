"""`lotlink chain …` and `lotlink deploy`: the managed local chain and the contracts' deployment."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Annotated

import typer

from lotlink.chain.deploy import ensure_deployment
from lotlink.chain.node import start_anvil
from lotlink.config import get_settings
from lotlink.errors import ChainStartError
from lotlink.runtime import open_chain

app = typer.Typer(help="Run the managed local chain (anvil).", no_args_is_help=True)


class _Stop(Exception):
    """Raised by the SIGTERM handler so `chain up` leaves its wait and stops anvil in order."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not interrupt stop()
    raise _Stop


@app.command("up")
def up() -> None:
    """Run the local anvil in the foreground until Ctrl-C or SIGTERM, then stop it cleanly.

    The chain is kept in var/chain/state.json, so the next `chain up` continues it.

    anvil's log goes to var/chain/anvil.log.
    """
    settings = get_settings()
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        # The whole block is covered: a stop request may arrive while anvil is still starting.
        with start_anvil(settings) as anvil:
            typer.echo(
                f"anvil is up at {anvil.url} (chain id {anvil.chain_id}, state {anvil.state_file},"
                f" pid {anvil.pid}); Ctrl-C stops it"
            )
            status = anvil.process.wait()
            raise ChainStartError(
                reason=f"anvil exited on its own with status {status}; see {anvil.log_file}"
            )
    except (KeyboardInterrupt, _Stop):
        typer.echo("anvil stopped; its state is saved")
    finally:
        signal.signal(signal.SIGTERM, previous)


def deploy(
    force: Annotated[
        bool, typer.Option("--force", help="Deploy anew even over a valid recorded deployment.")
    ] = False,
    deploy_remote: Annotated[
        bool,
        typer.Option(
            "--deploy-remote",
            help="Allow deploying to LOTLINK_RPC_URL (with LOTLINK_DEPLOYER_KEY) when none is "
            "recorded or with --force.",
        ),
    ] = False,
    admin: Annotated[
        str | None,
        typer.Option(help="Address granted the admin role; default: the deployer."),
    ] = None,
) -> None:
    """Deploy the contracts once per chain and record the deployment in var/deployment.json.

    On the managed chain, starts anvil when nothing answers yet, and stops it afterwards.

    With LOTLINK_RPC_URL, checks the recorded deployment there; deploys only with --deploy-remote.
    """
    settings = get_settings()
    with open_chain(settings) as w3:
        allow = settings.managed_chain or deploy_remote
        deployment = ensure_deployment(settings, w3, allow_deploy=allow, force=force, admin=admin)
    for name, contract in deployment.contracts.items():
        typer.echo(
            f"{name} at {contract.address} on chain {deployment.chain_id} "
            f"(block {contract.block}, deployed {deployment.deployed_at:%Y-%m-%d %H:%M:%SZ})"
        )
