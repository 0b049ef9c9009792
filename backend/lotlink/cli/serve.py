"""`lotlink serve`: chain, deployment, migrations, then the HTTP API."""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import httpx
import typer

from lotlink.config import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from lotlink.runtime import Prepared
    from lotlink.services.chain_access import ChainAccess


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
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Web worker processes; default LOTLINK_WORKERS, else one per CPU core. With "
            "more than one, anchoring, indexing and the periodic rounds run once, in this process.",
        ),
    ] = None,
) -> None:
    """Start the chain (the managed anvil unless LOTLINK_RPC_URL is set), deploy on first run,
    migrate the database, and serve the API until Ctrl-C; a managed anvil stops with it."""
    from lotlink.runtime import prepare

    signal.signal(signal.SIGTERM, exit_on_sigterm)
    settings = get_settings()
    bind_host = host or settings.host
    bind_port = port or settings.port
    processes = workers or settings.workers or os.cpu_count() or 1
    with prepare(settings) as ready:
        typer.echo(
            f"chain {ready.deployment.chain_id} at {settings.effective_rpc_url}; "
            f"Lotlink at {ready.deployment.address()}; database at revision "
            f"{ready.database_revision}"
        )
        typer.echo(
            f"serving on http://{bind_host}:{bind_port} (health: /healthz) with "
            f"{processes} web worker{'s' if processes > 1 else ''}"
        )
        base_url = f"http://{bind_host}:{bind_port}"
        if processes == 1:
            _serve_in_one_process(settings, bind_host, bind_port, demo=demo, base_url=base_url)
        else:
            _serve_with_workers(
                settings, ready, bind_host, bind_port, processes, demo=demo, base_url=base_url
            )


def _serve_in_one_process(
    settings: Settings, host: str, port: int, *, demo: bool, base_url: str
) -> None:
    """The app and its background work in this process (threads)."""
    import uvicorn

    from lotlink.main import create_app

    app = create_app(settings, served=True)
    if demo:
        _start_demo(lambda: (app.state.sessions, app.state.chain), settings, base_url)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=settings.access_log)


def _serve_with_workers(
    settings: Settings,
    ready: Prepared,
    host: str,
    port: int,
    processes: int,
    *,
    demo: bool,
    base_url: str,
) -> None:
    """`processes` web workers (`lotlink.supervision.WebWorkers`: each on its own listening
    socket, restarted if it dies), answering requests only; this process runs the background
    work once, beside them."""
    import uvicorn
    from web3 import HTTPProvider, Web3

    from lotlink.background import start_background
    from lotlink.db.engine import make_engine, make_session_factory
    from lotlink.services.chain_access import ChainAccess
    from lotlink.supervision import SERVING_PROCESS_ENV, WebWorkers

    engine = make_engine(settings.effective_database_url)
    w3 = Web3(HTTPProvider(settings.effective_rpc_url, request_kwargs={"timeout": 5}))
    chain = ChainAccess.connect(settings, w3, ready.deployment)
    background = start_background(settings, engine, ready.deployment, chain)
    gc.freeze()  # what startup built lives as long as the process (see `create_app`)
    # The workers read their settings from the environment, as this process did.
    os.environ.update(
        {
            "LOTLINK_ANCHORER_ENABLED": "false",
            "LOTLINK_INDEXER_ENABLED": "false",
            "LOTLINK_PERIODIC_ENABLED": "false",
            SERVING_PROCESS_ENV: str(os.getpid()),
        }
    )
    try:
        if demo:
            _start_demo(lambda: (make_session_factory(engine), chain), settings, base_url)
        config = uvicorn.Config(
            "lotlink.main:create_served_app",
            factory=True,
            host=host,
            port=port,
            workers=processes,
            log_level="info",
            access_log=settings.access_log,
            # A worker importing the app on a busy machine takes seconds to answer its first
            # ping; uvicorn's 5 s default would kill and restart it at startup.
            timeout_worker_healthcheck=60,
        )
        WebWorkers(config, processes).run()
    finally:
        background.stop()
        engine.dispose()


def _start_demo(
    access: Callable[[], tuple[sessionmaker[Session], ChainAccess]],
    settings: Settings,
    base_url: str,
) -> None:
    threading.Thread(
        target=_seed_demo_when_up,
        args=(access, settings, base_url),
        name="lotlink-demo",
        daemon=True,
    ).start()


def _seed_demo_when_up(
    access: Callable[[], tuple[sessionmaker[Session], ChainAccess]],
    settings: Settings,
    base_url: str,
) -> None:
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
    sessions, chain = access()
    try:
        record = seed_demo(settings, base_url=base_url, sessions=sessions, chain=chain)
    except Exception as error:  # the service keeps running; say what stopped the story
        typer.secho(f"lotlink: the demo story stopped: {error}", err=True, fg=typer.colors.RED)
        return
    typer.echo(describe(record, base_url=settings.public_base_url))
