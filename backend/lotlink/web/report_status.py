"""`/report/{reference}`: where a reporter follows a problem report with its reference number,
and nothing else about it. The page shows the product and lot, when the report was received,
the supplier's deadlines and answers; never the report's description, contact or photo, and
nothing that says who sent it. It is not cached: an answer shows at once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from lotlink.gs1.digital_link import DigitalLink
from lotlink.models import ReportCategory
from lotlink.services.report_responses import public_status
from lotlink.services.reports import CATEGORY_LABELS
from lotlink.web.templating import render

router = APIRouter(include_in_schema=False)


def _page(request: Request, reference: str) -> HTMLResponse:
    with request.app.state.read_sessions() as session:
        found = public_status(session, reference[:40])
    return render(
        "report_status.html",
        headers={"Cache-Control": "no-store"},
        report=found,
        category=CATEGORY_LABELS[ReportCategory(found.category)],
        product_link=DigitalLink(gtin=found.gtin, lot=found.lot_code).path,
        hours=lambda due: f"{(due - found.received_at).total_seconds() / 3600:g}",
    )


@router.get("/report/{reference}")
async def report_status(request: Request, reference: str) -> HTMLResponse:
    return await run_in_threadpool(_page, request, reference)
