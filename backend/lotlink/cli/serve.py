"""`lotlink serve`: chain, deployment, migrations, then the HTTP API."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Annotated

import typer

from lotlink.config import get_settings


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # uvicorn re-raises the signal it caught once it has shut down; exiting through SystemExit
    # (rather than the default disposition) lets the managed anvil stop and save its state.
    raise SystemExit(128 + signum)


def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind; default LOTLINK_HOST.")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind; default LOTLINK_PORT.")] = None,
) -> None:
    """Start the chain (the managed anvil unless LOTLINK_RPC_URL is set), deploy on first run,
    migrate the database, and serve the API until Ctrl-C; a managed anvil stops with it."""
    import uvicorn

    from lotlink.main import create_app
    from lotlink.runtime import prepare

    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    settings = get_settings()
    bind_host = host or settings.host
    bind_port = port or settings.port
    with prepare(settings) as ready:
        typer.echo(
            f"chain {ready.deployment.chain_id} at {settings.effective_rpc_url}; "
            f"Lotlink at {ready.deployment.address()}; database at revision "
            f"{ready.database_revision}"
        )
        typer.echo(f"serving on http://{bind_host}:{bind_port} (health: /healthz)")
        uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_level="info")
