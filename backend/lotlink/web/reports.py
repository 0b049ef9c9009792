"""Problem reports: the scan page's form (``POST /report``) and the API that shows reports to
the lot's supplier and to regulators (``GET /api/v1/reports``).

A refused report re-renders the scan page with the message on the form and the user's input
kept: 422 for a missing description or a photo that is not an image, 413 for an oversized
photo, 429 when the client sent too many reports (sliding window per client address).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from lotlink.api.deps import ActorDep, SessionDep
from lotlink.api.report_responses import reports_public
from lotlink.config import Settings
from lotlink.errors import (
    LotlinkError,
    ReportRateLimitedError,
    ReportRejectedError,
    UnknownProductError,
)
from lotlink.gs1.digital_link import DigitalLink, parse_digital_link
from lotlink.models import Lot
from lotlink.schemas.reports import ReportPublic
from lotlink.services.lots import LOT_KEY_PATTERN, find_lot
from lotlink.services.reports import (
    CATEGORY_LABELS,
    ReportForm,
    SlidingWindowLimiter,
    create_report,
)
from lotlink.web.pages import scan_page
from lotlink.web.templating import render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

_FORM_OVERHEAD = 64 * 1024  # multipart framing and the text fields, beyond the photo itself


def limiter_of(request: Request) -> SlidingWindowLimiter:
    limiter: SlidingWindowLimiter | None = getattr(request.app.state, "report_limiter", None)
    if limiter is None:
        settings: Settings = request.app.state.settings
        limiter = SlidingWindowLimiter(
            limit=settings.report_rate_limit, window_seconds=settings.report_rate_window_seconds
        )
        request.app.state.report_limiter = limiter
    return limiter


def _text(value: Any, limit: int = 10_000) -> str:
    return value[:limit] if isinstance(value, str) else ""


@router.post("/report")
async def submit_report(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    too_large = int(request.headers.get("content-length") or 0) > (
        settings.report_photo_max_bytes + _FORM_OVERHEAD
    )
    raw_link = request.query_params.get("link") or ""
    form = ReportForm()
    photo: bytes | None = None
    photo_name: str | None = None
    if not too_large:
        async with request.form(max_files=1, max_fields=10) as form_data:
            # The form's action names the lot's link in the query; the hidden field is a fallback.
            raw_link = raw_link or _text(form_data.get("link"))
            form = ReportForm(
                category=_text(form_data.get("category")),
                description=_text(form_data.get("description"), 8000),
                contact=_text(form_data.get("contact"), 400),
            )
            upload = form_data.get("photo")
            if isinstance(upload, UploadFile) and upload.filename:
                photo = await upload.read(settings.report_photo_max_bytes + 1)
                photo_name = upload.filename
    link = parse_digital_link(raw_link)
    client = request.client.host if request.client else "unknown"
    return await run_in_threadpool(
        _submit, request, settings, link, form, photo, photo_name, client, too_large
    )


def _submit(
    request: Request,
    settings: Settings,
    link: DigitalLink,
    form: ReportForm,
    photo: bytes | None,
    photo_name: str | None,
    client: str,
    too_large: bool,
) -> Response:
    with request.app.state.sessions() as session:
        if link.lot is None:
            raise UnknownProductError(gtin=link.gtin)
        lot = session.scalar(select(Lot).where(Lot.gtin == link.gtin, Lot.lot_code == link.lot))
        if lot is None:
            raise UnknownProductError(gtin=link.gtin, lot=link.lot)
        canonical = DigitalLink(gtin=link.gtin, lot=link.lot, serial=link.serial)
        try:
            limiter_of(request).hit(client)
            if too_large:
                limit_mb = settings.report_photo_max_bytes // (1024 * 1024)
                raise ReportRejectedError(
                    field="photo", reason=f"the photo is larger than {limit_mb} MB"
                )
            report = create_report(
                session,
                settings,
                lot=lot,
                serial=link.serial,
                form=form,
                photo=photo,
                photo_name=photo_name,
            )
        except (ReportRejectedError, ReportRateLimitedError) as error:
            return _refused(request, session, settings, lot, canonical, form, error)
        return render(
            "report_sent.html",
            reference=report.reference,
            category=CATEGORY_LABELS[report.category],
            lot=lot,
            back=canonical.path,
            first_hours=f"{settings.report_first_response_hours:g}",
            resolution_hours=f"{settings.report_resolution_hours:g}",
        )


def _refused(
    request: Request,
    session: Any,
    settings: Settings,
    lot: Lot,
    link: DigitalLink,
    form: ReportForm,
    error: LotlinkError,
) -> HTMLResponse:
    if isinstance(error, ReportRateLimitedError):
        status, field, message = 429, None, str(error)
        message = message[0].upper() + message[1:] + "."
    else:
        assert isinstance(error, ReportRejectedError)
        field = error.field
        status = 413 if field == "photo" and "larger" in error.reason else 422
        message = error.reason[0].upper() + error.reason[1:] + "."
    response = scan_page(
        request,
        session,
        settings,
        lot,
        link,
        form=form,
        form_error=message,
        form_field=field,
        status_code=status,
    )
    if isinstance(error, ReportRateLimitedError):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@api_router.get("", summary="Problem reports: a supplier's own lots', or all for regulators")
def read_reports(
    actor: ActorDep,
    session: SessionDep,
    lot: str | None = Query(
        default=None, description="A lot key (0x…) to filter by.", pattern=LOT_KEY_PATTERN
    ),
    overdue: bool = Query(
        default=False, description="Only reports past a deadline they have not met."
    ),
) -> dict[str, list[ReportPublic]]:
    lot_key = None if lot is None else find_lot(session, lot).lot_key
    overdue_at = datetime.now(UTC) if overdue else None
    return {"reports": reports_public(session, actor, lot_key=lot_key, overdue_at=overdue_at)}
