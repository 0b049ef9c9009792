"""The GS1 Digital Link resolver: ``/01/{gtin}[/22/{cpv}][/10/{lot}][/21/{serial}]``.

The path is parsed from the raw request path, so an encoded slash (``%2F``) stays inside its
value. A browser gets the scan page (or, for a GTIN alone, the product page); a client asking
for ``application/linkset+json`` or ``linkType=all`` gets the RFC 9264 linkset; ``linkType=<type>``
is a 307 to that link. ``…/qr.png`` and ``…/qr.svg`` are the QR code of the canonical link on the
public base URL. Invalid links are a 400 page with the reason, unknown products a 404 page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from lotlink.api.deps import SettingsDep
from lotlink.config import Settings
from lotlink.errors import UnknownLinkTypeError, UnknownProductError
from lotlink.gs1.digital_link import DigitalLink, parse_digital_link
from lotlink.labels import qr_png, qr_svg
from lotlink.models import Lot
from lotlink.services.copies import COARSE_LOCATION_HEADER, parse_coarse_location
from lotlink.services.scans import ScanRecorder
from lotlink.web.links import (
    CORS,
    LINKSET_JSON,
    cors_preflight,
    link_header,
    link_href,
    linkset,
    targets_for,
)
from lotlink.web.page_cache import cached_page
from lotlink.web.pages import cached_scan_page, product_page
from lotlink.web.scan import product_lots

router = APIRouter(include_in_schema=False)

QR_FORMATS = {"qr.png": "image/png", "qr.svg": "image/svg+xml"}


def raw_path(request: Request) -> str:
    """The request path as sent, still percent-encoded (never the decoded ``path``)."""
    raw = request.scope.get("raw_path")
    text = raw.decode("latin-1") if isinstance(raw, bytes | bytearray) else request.url.path
    return text.split("?", 1)[0]


def split_qr(path: str) -> tuple[str, str | None]:
    """(link path, QR file name or None). ``qr.png`` is a file, not a value, only where an AI
    would stand: after the ``01`` pair and each qualifier pair (an odd segment count)."""
    segments = [s for s in path.strip("/").split("/")]
    if segments and segments[-1] in QR_FORMATS and len(segments) % 2 == 1:
        return path.rstrip("/").rsplit("/", 1)[0], segments[-1]
    return path, None


def wants_linkset(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    if LINKSET_JSON in accept:
        return True
    return "application/json" in accept and "text/html" not in accept


@router.api_route("/01/{rest:path}", methods=["GET", "HEAD"])
async def resolve(rest: str, request: Request) -> Response:
    path, qr = split_qr(raw_path(request))
    link = parse_digital_link(path, request.url.query)
    canonical = DigitalLink(gtin=link.gtin, lot=link.lot, serial=link.serial, cpv=link.cpv)
    link_type = request.query_params.get("linkType")
    page_view = qr is None and link_type is None and not wants_linkset(request)
    response: Response | None = None
    if page_view and link.lot is not None:
        # The common case, a phone scanning a pack: a current cached page, straight from here.
        response = cached_page(request.app.state.engine, canonical)
    if response is None:
        response = await run_in_threadpool(_resolve, request, canonical, qr, link_type)
    if page_view and canonical.serial is not None and canonical.lot is not None:
        record_scan(request, canonical)  # after the page: it shows what earlier scans showed
    return response


def record_scan(request: Request, link: DigitalLink) -> None:
    """Buffers a view of a serial's page for the copy rules (no I/O here; see
    `lotlink.services.scans`). Only the time and the coarse place a client volunteers in the
    ``Lotlink-Coarse-Location`` header are kept; never the client's address."""
    recorder: ScanRecorder | None = getattr(request.app.state, "scans", None)
    if recorder is None or request.method != "GET":
        return
    assert link.lot is not None and link.serial is not None
    place = parse_coarse_location(request.headers.get(COARSE_LOCATION_HEADER))
    recorder.record(link.gtin, link.lot, link.serial, place)


def _resolve(
    request: Request, canonical: DigitalLink, qr: str | None, link_type: str | None
) -> Response:
    settings: Settings = request.app.state.settings
    with request.app.state.read_sessions() as session:
        lot: Lot | None = None
        if canonical.lot is not None:
            lot = session.scalar(
                select(Lot).where(Lot.gtin == canonical.gtin, Lot.lot_code == canonical.lot)
            )
            if lot is None:
                raise UnknownProductError(gtin=canonical.gtin, lot=canonical.lot)
        elif session.scalar(select(Lot.lot_key).where(Lot.gtin == canonical.gtin).limit(1)) is None:
            raise UnknownProductError(gtin=canonical.gtin)

        base = settings.public_base_url
        if qr is not None:
            data = canonical.uri(base)
            image = qr_png(data) if qr == "qr.png" else qr_svg(data)
            return Response(
                image,
                media_type=QR_FORMATS[qr],
                headers={"Cache-Control": "public, max-age=86400"},
            )

        if link_type == "all" or (link_type is None and wants_linkset(request)):
            return JSONResponse(
                linkset(canonical, lot, base=base),
                media_type=LINKSET_JSON,
                headers={**CORS, "Link": link_header(canonical, lot, base=base), "Vary": "Accept"},
            )
        if link_type is not None:
            targets = {target.link_type: target for target in targets_for(lot)}
            if link_type not in targets:
                raise UnknownLinkTypeError(link_type=link_type, available=[*targets, "all"])
            href = link_href(targets[link_type], canonical, lot, base=base)
            return RedirectResponse(href, status_code=307, headers=CORS)

        if lot is None:
            return product_page(settings, canonical, product_lots(session, canonical.gtin))
        return cached_scan_page(request, session, settings, lot, canonical)


@router.options("/01/{rest:path}")
def resolve_preflight(rest: str, request: Request) -> Response:
    return cors_preflight(request)


@router.get("/.well-known/gs1resolver")
def resolver_description(settings: SettingsDep) -> JSONResponse:
    """The resolver's description document (GS1-Conformant Resolver standard)."""
    body: dict[str, Any] = {
        "name": "Lotlink",
        "resolverRoot": settings.public_base_url.rstrip("/"),
        "supportedPrimaryKeys": ["01"],
        "supportedQualifiers": {"01": ["22", "10", "21"]},
        "supportedLinkTypes": [
            "gs1:pip",
            "gs1:recallStatus",
            "gs1:traceability",
            "gs1:certificationInfo",
            "gs1:defaultLink",
        ],
        "linkTypeDefaultCanBeLinkset": False,
        "linksetMediaType": LINKSET_JSON,
        "supportsCompressedLinks": False,
        "contact": settings.public_base_url.rstrip("/") + "/docs",
    }
    return JSONResponse(body, headers=CORS)
