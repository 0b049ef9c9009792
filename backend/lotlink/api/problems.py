"""RFC 9457 problem+json for every error a request can meet.

Routes and services raise domain errors (`LotlinkError` subclasses); the status each maps to is
decided here, once, so no route builds an error response by hand and no traceback reaches a client.
Pages for people (the Digital Link resolver, scan pages) get the same status as a plain HTML page
instead: the web package installs ``app.state.error_page``, which answers for its own paths.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from lotlink import errors

log = logging.getLogger("lotlink.api")

PROBLEM_JSON = "application/problem+json"

# Most specific first: the first class an error is an instance of decides its status.
STATUS_BY_ERROR: list[tuple[type[errors.LotlinkError], int]] = [
    (errors.InvalidDigitalLinkError, 400),
    (errors.InvalidIdempotencyKeyError, 400),
    (errors.IdempotencyKeyReusedError, 422),
    (errors.ReportRejectedError, 422),
    (errors.InvalidGs1KeyError, 422),
    (errors.InvalidInputError, 422),
    (errors.EpcisValidationError, 422),
    (errors.SignatureMismatchError, 422),
    (errors.UnknownDocumentError, 422),
    (errors.AuthenticationError, 401),
    (errors.RoleNotAllowedError, 403),
    (errors.FormTokenError, 403),
    (errors.UnknownLotError, 404),
    (errors.UnknownActorError, 404),
    (errors.UnknownTokenError, 404),
    (errors.DocumentNotFoundError, 404),
    (errors.CheckpointNotFoundError, 404),
    (errors.UnknownProductError, 404),
    (errors.UnknownLinkTypeError, 404),
    (errors.CertificateNotFoundError, 404),
    (errors.RecallNotFoundError, 404),
    (errors.ReportNotFoundError, 404),
    (errors.AlertNotFoundError, 404),
    (errors.WebhookEndpointNotFoundError, 404),
    (errors.SupplierNotFoundError, 404),
    (errors.CertificateConflictError, 409),
    (errors.DuplicateLotError, 409),
    (errors.ActorExistsError, 409),
    (errors.StaleHeadError, 409),
    (errors.AlertStateError, 409),
    (errors.DocumentTooLargeError, 413),
    (errors.UnsupportedDocumentTypeError, 415),
    (errors.ReportRateLimitedError, 429),
    (errors.ChainUnavailableError, 503),
    (errors.DatabaseError, 503),
]


#: ``app.state.error_page(request, status, title, detail, error)``: an HTML error page for a
#: request to a page route, or None to answer with problem+json.
ErrorPage = Callable[[Request, int, str, str, Exception | None], Response | None]


def _page(
    request: Request, status: int, title: str, detail: str, error: Exception | None = None
) -> Response | None:
    render: ErrorPage | None = getattr(request.app.state, "error_page", None)
    return None if render is None else render(request, status, title, detail, error)


def status_for(error: errors.LotlinkError) -> int:
    """The HTTP status of a domain error: from the table, else 503 if it may pass, else 500."""
    for kind, status in STATUS_BY_ERROR:
        if isinstance(error, kind):
            return status
    return 503 if error.retryable else 500


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response; `type` is left as about:blank, so `title` is the status phrase."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _field(location: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in location)


async def _domain_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, errors.LotlinkError)
    status = status_for(error)
    if status == 500:
        log.error("%s on %s %s: %s", type(error).__name__, request.method, request.url.path, error)
    retry = {"Retry-After": str(error.retry_after)} if hasattr(error, "retry_after") else {}
    if (page := _page(request, status, type(error).__name__, str(error), error)) is not None:
        page.headers.update(retry)
        return page
    extra: dict[str, Any] = {}
    if isinstance(getattr(error, "field", None), str):
        extra["field"] = error.field  # type: ignore[attr-defined]
    if isinstance(error, errors.EpcisValidationError):
        extra["field"] = error.path
        extra["errors"] = [{"field": path, "message": reason} for path, reason in error.errors]
    if isinstance(error, errors.StaleHeadError):
        extra.update(lot=error.lot_key, head=error.head)
    response = problem(status, type(error).__name__, str(error), **extra)
    response.headers.update(retry)
    if isinstance(error, errors.AuthenticationError):
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    fields = [{"field": _field(e["loc"]), "message": e["msg"]} for e in error.errors()]
    first = fields[0] if fields else {"field": "request", "message": "invalid"}
    detail = f"{first['field']}: {first['message']}"
    if (page := _page(request, 422, "Unprocessable Content", detail, error)) is not None:
        return page
    return problem(422, "Unprocessable Content", detail, errors=fields)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    title = {404: "Not Found", 405: "Method Not Allowed"}.get(error.status_code, "HTTP error")
    response = _page(request, error.status_code, title, str(error.detail), error) or problem(
        error.status_code, title, str(error.detail)
    )
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


async def _unexpected(request: Request, error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    detail = "an unexpected error occurred; it was logged"
    page = _page(request, 500, "Internal Server Error", detail, None)
    return page or problem(500, "Internal Server Error", detail)


def install_problem_handlers(app: FastAPI) -> None:
    """Routes every error a request can raise through problem+json."""
    app.add_exception_handler(errors.LotlinkError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
