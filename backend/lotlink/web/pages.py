"""Server-rendered pages: the scan page of a lot, a product's page, and the HTML error page
that page routes answer with instead of problem+json."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from lotlink.chain.typed_data import Domain
from lotlink.config import Settings
from lotlink.errors import UnknownLinkTypeError
from lotlink.gs1.digital_link import DigitalLink
from lotlink.models import Lot
from lotlink.services.reports import CATEGORY_LABELS, ReportForm
from lotlink.web import STATIC_DIR
from lotlink.web.links import link_header
from lotlink.web.page_cache import page_cache, page_fingerprint, page_key
from lotlink.web.scan import LotLabel, build_scan_view
from lotlink.web.session import sign_in_redirect
from lotlink.web.templating import render

#: Paths whose errors are pages for people, not problem+json.
PAGE_PREFIXES = ("/01/", "/report", "/recalls", "/sign-in", "/sign-out", "/alerts", "/suppliers/")
VERIFIER = STATIC_DIR / "verify" / "verify.js"

_TITLES = {
    400: "This code is not a valid product link",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    413: "Too large",
    422: "Please check the form",
    429: "Too many requests",
}


def _deployment(request: Request) -> tuple[Domain | None, int, str]:
    deployment = request.app.state.deployment
    if deployment is None:
        return None, 0, "0x" + "00" * 20
    address = deployment.address()
    return (
        Domain(chain_id=deployment.chain_id, verifying_contract=address),
        deployment.chain_id,
        address,
    )


def scan_page(
    request: Request,
    session: Session,
    settings: Settings,
    lot: Lot,
    link: DigitalLink,
    *,
    form: ReportForm | None = None,
    form_error: str | None = None,
    form_field: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The scan page of `lot`; with `form_error`, the report form shows it beside the input."""
    domain, chain_id, contract = _deployment(request)
    view = build_scan_view(
        session, lot, link, settings=settings, domain=domain, chain_id=chain_id, contract=contract
    )
    return render(
        "scan.html",
        status_code=status_code,
        headers={
            "Link": link_header(link, lot, base=settings.public_base_url),
            "Vary": "Accept",
            "Cache-Control": "no-cache",
        },
        view=view,
        lot=view.lot,
        canonical=link.uri(settings.public_base_url),
        form=form or ReportForm(),
        form_error=form_error,
        form_field=form_field,
        categories=CATEGORY_LABELS,
        photo_limit_mb=settings.report_photo_max_bytes // (1024 * 1024),
        verifier=_verifier_present(),
    )


def cached_scan_page(
    request: Request, session: Session, settings: Settings, lot: Lot, link: DigitalLink
) -> HTMLResponse:
    """The scan page of `lot`, rebuilt only when what it shows changed (see `page_cache`)."""
    fingerprint = page_fingerprint(session, link)
    page = scan_page(request, session, settings, lot, link)
    if fingerprint is not None:
        page_cache.put(page_key(lot.lot_key, link), fingerprint, page)
    return page


def product_page(settings: Settings, link: DigitalLink, lots: list[LotLabel]) -> HTMLResponse:
    name = next((lot.product_name for lot in lots if lot.product_name), None)
    return render(
        "product.html",
        headers={"Link": link_header(link, None, base=settings.public_base_url), "Vary": "Accept"},
        link=link,
        name=name,
        lots=lots,
        canonical=link.uri(settings.public_base_url),
    )


def _verifier_present() -> bool:
    return Path(VERIFIER).is_file()


def error_page(
    request: Request, status: int, title: str, detail: str, error: Exception | None
) -> Response | None:
    """The HTML error page for page routes (`PAGE_PREFIXES`); None for every other route."""
    path = request.url.path
    if not (path.startswith(PAGE_PREFIXES) or path == "/01"):
        return None
    if status == 401 and request.method in ("GET", "HEAD"):
        return sign_in_redirect(request)  # a page that needs signing in: sign in, come back
    available = error.available if isinstance(error, UnknownLinkTypeError) else []
    reason = str(getattr(error, "reason", None) or detail)
    reason = reason[:1].upper() + reason[1:]
    return render(
        "error.html",
        status_code=status,
        heading=_TITLES.get(status, "Something went wrong"),
        status=status,
        reason=reason,
        available=available,
        path=request.url.path,
    )
