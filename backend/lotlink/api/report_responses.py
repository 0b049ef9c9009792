"""`/api/v1/reports/…`: one report with its deadlines and answers; a complaint forwarded by a
retailer or call centre with when it was received; the lot's supplier's (or a regulator's)
responses and resolution. The listing, `GET /api/v1/reports[?overdue=true]`, is beside the
scan page's form in `lotlink.web.reports`."""

from __future__ import annotations

from datetime import datetime

from eth_utils import to_checksum_address
from fastapi import APIRouter, status
from sqlalchemy.orm import Session

from lotlink.api.deps import ActorDep, SessionDep, SettingsDep
from lotlink.models import Actor, Lot, ProblemReport, ReportResponse
from lotlink.schemas.reports import (
    ReportAnswer,
    ReportForward,
    ReportPublic,
    ReportResponsePublic,
)
from lotlink.services.lots import find_lot, find_lot_by_code
from lotlink.services.report_responses import (
    answer_report,
    deadlines_of,
    forward_report,
    read_report,
    responses_of,
)
from lotlink.services.reports import ReportForm, list_reports

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


def report_public(
    report: ProblemReport,
    lot: Lot,
    responses: list[ReportResponse],
    *,
    now: datetime | None = None,
) -> ReportPublic:
    view = deadlines_of(report, now=now)
    return ReportPublic(
        reference=report.reference,
        lot_key=report.lot_key,
        gtin=lot.gtin,
        lot_code=lot.lot_code,
        supplier=to_checksum_address(lot.owner_address),
        serial=report.serial,
        category=str(report.category),
        description=report.description,
        contact=report.contact,
        photo=None
        if report.photo_sha256 is None
        else f"/api/v1/documents/{report.photo_sha256.removeprefix('0x')}",
        created_at=report.created_at,
        received_at=report.received_at,
        received_offset=report.received_offset,
        submitted_by=None
        if report.submitted_by is None
        else to_checksum_address(report.submitted_by),
        status=str(view.status),
        first_response_due_at=report.first_response_due_at,
        resolution_due_at=report.resolution_due_at,
        first_response_at=report.first_response_at,
        resolved_at=report.resolved_at,
        first_response_overdue=view.first_response_overdue,
        resolution_overdue=view.resolution_overdue,
        first_response_on_time=view.first_response_on_time,
        resolution_on_time=view.resolution_on_time,
        responses=[
            ReportResponsePublic(
                kind=str(r.kind),
                actor=to_checksum_address(r.actor_address),
                message=r.message,
                created_at=r.created_at,
            )
            for r in responses
        ],
        status_page=f"/report/{report.reference}",
    )


def reports_public(
    session: Session, actor: Actor, *, lot_key: str | None, overdue_at: datetime | None
) -> list[ReportPublic]:
    rows = list_reports(session, actor, lot_key=lot_key, overdue_at=overdue_at)
    answers = responses_of(session, [report.id for report, _ in rows])
    return [report_public(report, lot, answers[report.id]) for report, lot in rows]


def _one(session: Session, actor: Actor, reference: str) -> ReportPublic:
    report, lot = read_report(session, actor, reference)
    return report_public(report, lot, responses_of(session, [report.id])[report.id])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Forward a complaint received elsewhere, with when it was received",
)
def forward(
    form: ReportForward, session: SessionDep, settings: SettingsDep, actor: ActorDep
) -> ReportPublic:
    if form.lot_key is not None:
        lot = find_lot(session, form.lot_key, field="lot_key")
    else:
        assert form.gtin is not None and form.lot_code is not None
        lot = find_lot_by_code(session, form.gtin, form.lot_code)
    report = forward_report(
        session,
        settings,
        actor,
        lot=lot,
        serial=form.serial,
        form=ReportForm(
            category=form.category, description=form.description, contact=form.contact or ""
        ),
        received_at=form.received_at,
        time_zone=form.time_zone,
    )
    return _one(session, actor, report.reference)


@router.get("/{reference}", summary="One report with its deadlines and answers")
def read(reference: str, session: SessionDep, actor: ActorDep) -> ReportPublic:
    return _one(session, actor, reference)


@router.post(
    "/{reference}/responses",
    status_code=status.HTTP_201_CREATED,
    summary="Answer a report (resolves: true closes it); the reporter sees the message",
)
def answer(
    reference: str, form: ReportAnswer, session: SessionDep, actor: ActorDep
) -> ReportPublic:
    report = answer_report(session, actor, reference, message=form.message, resolves=form.resolves)
    return _one(session, actor, report.reference)
