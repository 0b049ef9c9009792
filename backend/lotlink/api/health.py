"""`GET /healthz`: is the chain answering, where are the contracts, is the database current."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from lotlink.config import Settings
from lotlink.db.engine import normalize_database_url, redact_url
from lotlink.db.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


def public_rpc(url: str) -> str:
    """scheme://host[:port] of an RPC URL: hosted endpoints keep API keys in the path or query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def scrub_rpc(text: str, url: str) -> str:
    """`text` with every secret-bearing part of `url` (user info, path, query) replaced by '…'."""
    parts = urlsplit(url)
    secrets = [parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else ""]
    secrets += [parts.path + (f"?{parts.query}" if parts.query else ""), parts.path, parts.query]
    for secret in sorted(filter(lambda s: len(s) > 1, secrets), key=len, reverse=True):
        text = text.replace(secret, "…")
    return text


def _chain_health(request: Request, settings: Settings) -> dict[str, Any]:
    deployment = request.app.state.deployment
    report: dict[str, Any] = {
        "rpc": public_rpc(settings.effective_rpc_url),
        "managed": settings.managed_chain,
        "confirmations": settings.confirmations,
        "contracts": {}
        if deployment is None
        else {
            name: {"address": c.address, "block": c.block}
            for name, c in deployment.contracts.items()
        },
    }
    try:
        w3 = request.app.state.w3
        report["chain_id"] = int(w3.eth.chain_id)
        report["head_block"] = int(w3.eth.block_number)
    except Exception as error:  # any transport failure means the same to a health check
        report["ok"] = False
        message = f"{type(error).__name__}: {error}".splitlines()[0]
        report["error"] = scrub_rpc(message, settings.effective_rpc_url)
        return report
    if deployment is None:
        report["ok"] = False
        report["error"] = "no deployment recorded; run `lotlink deploy`"
    elif deployment.chain_id != report["chain_id"]:
        report["ok"] = False
        report["error"] = f"deployment is on chain {deployment.chain_id}"
    else:
        report["ok"] = True
    return report


def _database_health(settings: Settings) -> dict[str, Any]:
    url = settings.effective_database_url
    report: dict[str, Any] = {"url": redact_url(url)}
    try:
        report["backend"] = normalize_database_url(url).get_backend_name()
    except Exception as error:
        report.update(ok=False, error=str(error))
        return report
    try:
        revision = current_revision(url)
    except (SQLAlchemyError, Exception) as error:
        report.update(ok=False, error=str(error).splitlines()[0])
        return report
    newest = head_revision()
    report.update(revision=revision, newest=newest, ok=revision == newest)
    if revision != newest:
        report["error"] = "schema is not at the newest revision; run `lotlink db upgrade`"
    return report


def _indexer_health(request: Request, settings: Settings) -> dict[str, Any]:
    from lotlink.indexer.service import indexer_health

    state = request.app.state
    report = indexer_health(
        thread=getattr(state, "indexer", None), engine=state.engine, w3=state.w3, settings=settings
    )
    if "error" in report:
        report["error"] = scrub_rpc(str(report["error"]), settings.effective_rpc_url)
    return report


@router.get("/healthz", summary="Chain, contracts, database and indexer status")
def healthz(request: Request) -> JSONResponse:
    """200 when the chain answers on the deployment's chain, the schema is current and the
    indexer has not stopped on an error, else 503. The indexer's lag is reported either way."""
    settings: Settings = request.app.state.settings
    chain = _chain_health(request, settings)
    database = _database_health(settings)
    indexer = _indexer_health(request, settings) if database["ok"] else {"ok": True}
    ok = chain["ok"] and database["ok"] and indexer["ok"]
    body = {
        "status": "ok" if ok else "degraded",
        "chain": chain,
        "database": database,
        "indexer": indexer,
    }
    return JSONResponse(body, status_code=200 if ok else 503)
