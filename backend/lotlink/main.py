"""`create_app()`: the Lotlink HTTP service, its routers and its error handlers."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.orm import configure_mappers
from web3 import HTTPProvider, Web3

from lotlink import __version__
from lotlink.api import (
    alerts,
    capture,
    certificates,
    checkpoints,
    documents,
    fsma204,
    health,
    lots,
    me,
    recalls,
    receipts,
    regulator,
    report_responses,
    scans,
    suppliers,
)
from lotlink.api.problems import install_problem_handlers
from lotlink.background import start_background
from lotlink.chain.deploy import load_deployment
from lotlink.config import Settings, get_settings
from lotlink.db.engine import make_engine, make_read_session_factory, make_session_factory
from lotlink.epcis.validation import prepare_validators
from lotlink.services.capture_writer import CaptureWriter
from lotlink.services.chain_access import ChainAccess
from lotlink.services.scans import ScanRecorder
from lotlink.supervision import end_with_serving_process
from lotlink.web import alerts as web_alerts
from lotlink.web import install_web
from lotlink.web import links as web_links
from lotlink.web import report_status as web_report_status
from lotlink.web import suppliers as web_suppliers


def create_app(settings: Settings | None = None, *, served: bool = False) -> FastAPI:
    """The service, reading `settings` (default: the environment's). The chain, deployment and
    schema are expected ready (see `lotlink.runtime.prepare`); requests never deploy or migrate.

    `served`: the app is a long-lived process of `lotlink serve` (its one process, or a web
    worker, which then ends with the serving process). Only such a process freezes what its
    startup built out of the garbage collector, never one of the apps tests build by the
    hundred: frozen objects are never collected, garbage included."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if served:
            end_with_serving_process()
        engine = make_engine(settings.effective_database_url)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessions = make_session_factory(engine)
        app.state.read_sessions = make_read_session_factory(engine)
        app.state.w3 = Web3(HTTPProvider(settings.effective_rpc_url, request_kwargs={"timeout": 5}))
        app.state.deployment = load_deployment(settings.deployment_file)
        # The process's one relayer (its nonces are handed out here alone): write routes use it.
        app.state.chain = (
            None
            if app.state.deployment is None
            else ChainAccess.connect(settings, app.state.w3, app.state.deployment)
        )
        background = start_background(settings, engine, app.state.deployment, app.state.chain)
        app.state.indexer = background.indexer
        # Serial scans are buffered and written off the request path.
        app.state.scans = ScanRecorder(settings, app.state.sessions).start()
        # Captures are stored in groups, one transaction each, by one thread of the process.
        app.state.capture_writer = (
            None
            if app.state.chain is None
            else CaptureWriter(app.state.sessions, app.state.chain).start()
        )
        # What the first requests would otherwise pay (seconds on a busy machine): the ORM's
        # mapper configuration and the EPCIS schema's validators. Then, in a served process,
        # what startup built is frozen out of the garbage collector's full passes, which would
        # walk it again and again for nothing (all of it lives as long as the process).
        configure_mappers()
        prepare_validators()
        if served:
            gc.freeze()
        try:
            yield
        finally:
            if app.state.capture_writer is not None:
                app.state.capture_writer.stop()
            app.state.scans.stop()
            background.stop()
            engine.dispose()

    app = FastAPI(
        title="Lotlink",
        version=__version__,
        summary="Product traceability anyone can check against the chain.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(regulator.router)  # /lots/{key}/trace, before `lots`
    # Before `lots`: /api/v1/lots/{key}/recall-status must not read as /{gtin}/{lot_code}.
    app.include_router(web_links.router)
    for module in (me, lots, checkpoints, documents, capture, certificates, recalls):
        app.include_router(module.router)
    app.include_router(receipts.router)
    app.include_router(fsma204.router)
    app.include_router(alerts.router)
    app.include_router(alerts.webhooks_router)
    app.include_router(report_responses.router)
    app.include_router(web_report_status.router)
    app.include_router(web_alerts.router)
    app.include_router(suppliers.router)
    app.include_router(scans.router)
    install_web(app)
    app.include_router(web_suppliers.router)
    return app


def create_served_app() -> FastAPI:
    """A web worker of `lotlink serve` (uvicorn's app factory): the app, settings from the
    environment, served."""
    return create_app(served=True)
