"""`lotlink serve`: chain, deployment, migrations, then the HTTP API."""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType
from typing import Annotated

import httpx
import typer
from fastapi import FastAPI

from lotlink.config import Settings, get_settings


def exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # uvicorn re-raises the signal it caught once it has shut down; exiting through SystemExit
    # (rather than the default disposition) lets the managed anvil stop and save its state.
    raise SystemExit(128 + signum)


def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind; default LOTLINK_HOST.")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind; default LOTLINK_PORT.")] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Record the demo story (farms' milk to infant formula, one lot recalled) through "
            "the API once, and print its scan links and QR images.",
        ),
    ] = False,
) -> None:
    """Start the chain (the managed anvil unless LOTLINK_RPC_URL is set), deploy on first run,
    migrate the database, and serve the API until Ctrl-C; a managed anvil stops with it."""
    import uvicorn

    from lotlink.main import create_app
    from lotlink.runtime import prepare

    signal.signal(signal.SIGTERM, exit_on_sigterm)
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
        app = create_app(settings)
        if demo:
            threading.Thread(
                target=_seed_demo_when_up,
                args=(app, settings, f"http://{bind_host}:{bind_port}"),
                name="lotlink-demo",
                daemon=True,
            ).start()
        uvicorn.run(app, host=bind_host, port=bind_port, log_level="info")


def _seed_demo_when_up(app: FastAPI, settings: Settings, base_url: str) -> None:
    """Waits until the service answers, then records the demo story through its API."""
    from lotlink.demo import describe, seed_demo

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    try:
        record = seed_demo(
            settings, base_url=base_url, sessions=app.state.sessions, chain=app.state.chain
        )
    except Exception as error:  # the service keeps running; say what stopped the story
        typer.secho(f"lotlink: the demo story stopped: {error}", err=True, fg=typer.colors.RED)
        return
    typer.echo(describe(record, base_url=settings.public_base_url))
