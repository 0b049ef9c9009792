"""Answering problem reports within their deadlines: complaints forwarded by an actor with the
time they were received, the lot's supplier's (or a regulator's) responses and resolution, the
overdue lists, and the status a reporter follows with the reference number.

A response's message is shown to the reporter on the public status page, so suppliers write it
for the reporter; the report's own description and contact are never shown there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotlink.config import Settings
from lotlink.errors import InvalidInputError, ReportNotFoundError, RoleNotAllowedError
from lotlink.models import Actor, Lot, ProblemReport, ReportResponse, ResponseKind
from lotlink.services.actors import actor_roles
from lotlink.services.deadlines import DeadlineView, deadline_view, parse_received_at
from lotlink.services.reports import ReportForm, create_report
from lotlink.vocabulary import Role

MAX_MESSAGE = 4000


def deadlines_of(report: ProblemReport, *, now: datetime | None = None) -> DeadlineView:
    return deadline_view(
        first_response_due_at=report.first_response_due_at,
        resolution_due_at=report.resolution_due_at,
        first_response_at=report.first_response_at,
        resolved_at=report.resolved_at,
        now=now,
    )


def find_report(session: Session, reference: str) -> tuple[ProblemReport, Lot]:
    """The report with this reference (any case, spaces ignored), with its lot."""
    wanted = reference.strip().upper()
    row = session.execute(
        select(ProblemReport, Lot)
        .join(Lot, Lot.lot_key == ProblemReport.lot_key)
        .where(ProblemReport.reference == wanted)
    ).first()
    if row is None:
        raise ReportNotFoundError(reference=wanted or reference)
    return row[0], row[1]


def read_report(
    session: Session, actor: Actor, reference: str, *, to_answer: bool = False
) -> tuple[ProblemReport, Lot]:
    """A report `actor` may read: any for a regulator; for a supplier, those about its own lots
    and those it forwarded (others' do not exist for it); other roles none. `to_answer`: only
    the lot's supplier and regulators, not the forwarder."""
    report, lot = find_report(session, reference)
    roles = actor_roles(actor)
    if Role.REGULATOR in roles:
        return report, lot
    if Role.SUPPLIER not in roles:
        raise RoleNotAllowedError(
            actor=actor.address, action="read problem reports", allowed=["supplier", "regulator"]
        )
    if lot.owner_address == actor.address:
        return report, lot
    if report.submitted_by != actor.address:
        raise ReportNotFoundError(reference=report.reference)
    if to_answer:
        raise RoleNotAllowedError(
            actor=actor.address,
            action=f"answer {report.reference}, which it forwarded about another supplier's lot",
            allowed=["the lot's supplier", "regulator"],
        )
    return report, lot


def answer_report(
    session: Session,
    actor: Actor,
    reference: str,
    *,
    message: str,
    resolves: bool,
    now: datetime | None = None,
) -> ProblemReport:
    """Records a response (the first one meets the first-response deadline) or, with
    `resolves`, the resolution (which is also a response). Commits."""
    report, _ = read_report(session, actor, reference, to_answer=True)
    text = message.strip()
    if not text:
        raise InvalidInputError(field="message", reason="write what you tell the reporter")
    if len(text) > MAX_MESSAGE:
        raise InvalidInputError(field="message", reason=f"longer than {MAX_MESSAGE} characters")
    if report.resolved_at is not None:
        raise InvalidInputError(field="reference", reason=f"{report.reference} is resolved")
    moment = now or datetime.now(UTC)
    kind = ResponseKind.RESOLUTION if resolves else ResponseKind.RESPONSE
    session.add(
        ReportResponse(
            report_id=report.id,
            kind=kind,
            actor_address=actor.address,
            message=text,
            created_at=moment,
        )
    )
    if report.first_response_at is None:
        report.first_response_at = moment
    if resolves:
        report.resolved_at = moment
    session.commit()
    return report


def forward_report(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    lot: Lot,
    serial: str | None,
    form: ReportForm,
    received_at: str,
    time_zone: str | None,
) -> ProblemReport:
    """A complaint that reached a retailer's desk or a call centre, entered by that actor (a
    supplier or a regulator) with when it was received there; its deadlines count from then."""
    roles = actor_roles(actor)
    if not roles & {Role.SUPPLIER, Role.REGULATOR}:
        raise RoleNotAllowedError(
            actor=actor.address, action="forward problem reports", allowed=["supplier", "regulator"]
        )
    received = parse_received_at(received_at, time_zone=time_zone)
    return create_report(
        session,
        settings,
        lot=lot,
        serial=serial,
        form=form,
        photo=None,
        photo_name=None,
        received_at=received,
        submitted_by=actor.address,
    )


def responses_of(session: Session, report_ids: list[int]) -> dict[int, list[ReportResponse]]:
    found: dict[int, list[ReportResponse]] = {i: [] for i in report_ids}
    if report_ids:
        for response in session.scalars(
            select(ReportResponse)
            .where(ReportResponse.report_id.in_(report_ids))
            .order_by(ReportResponse.created_at, ReportResponse.id)
        ):
            found[response.report_id].append(response)
    return found


@dataclass(frozen=True, slots=True)
class PublicStatus:
    """What the reporter sees with the reference number: no description, contact or photo."""

    reference: str
    category: str
    product_name: str | None
    lot_code: str
    gtin: str
    received_at: datetime
    received_offset: str | None
    deadlines: DeadlineView
    first_response_due_at: datetime
    resolution_due_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    responses: list[ReportResponse]


def public_status(session: Session, reference: str, *, now: datetime | None = None) -> PublicStatus:
    report, lot = find_report(session, reference)
    return PublicStatus(
        reference=report.reference,
        category=str(report.category),
        product_name=lot.product_name,
        lot_code=lot.lot_code,
        gtin=lot.gtin,
        received_at=report.received_at,
        received_offset=report.received_offset,
        deadlines=deadlines_of(report, now=now),
        first_response_due_at=report.first_response_due_at,
        resolution_due_at=report.resolution_due_at,
        first_response_at=report.first_response_at,
        resolved_at=report.resolved_at,
        responses=responses_of(session, [report.id])[report.id],
    )
