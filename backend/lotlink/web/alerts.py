"""The signed-in work pages of suppliers and regulators: `/alerts` lists the alerts they may see
and the problem reports waiting for an answer (overdue first); `/alerts/{id}` shows one alert's
rule, p-value or reason and figures, with links to the lot's trace, scan page and recall, and
the forms that acknowledge it, close it, or escalate it to a recall on chain in one step (the
same services the API calls). Forms work without JavaScript; a refused one is shown again with
the reason and the input kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from lotlink.api.deps import ChainDep, SessionDep
from lotlink.errors import AlertStateError, InvalidInputError
from lotlink.models import AlertState, Lot
from lotlink.models.actor import Custody
from lotlink.schemas.recalls import RecallWording
from lotlink.services.alerts import (
    acknowledge_alert,
    alert_view,
    close_alert,
    escalate_alert,
    get_alert,
    list_alerts,
)
from lotlink.services.report_responses import deadlines_of
from lotlink.services.reports import CATEGORY_LABELS, list_reports
from lotlink.vocabulary import Role
from lotlink.web.page_cache import page_cache
from lotlink.web.scan import CLASS_LABELS, CLASS_MEANING
from lotlink.web.session import FormTokenDep, WebActor, signed_in_as
from lotlink.web.templating import render

router = APIRouter(include_in_schema=False)

WorkerDep = Annotated[
    WebActor, Depends(signed_in_as(Role.SUPPLIER, Role.REGULATOR, action="work alerts"))
]
RULE_NAMES = {
    "poisson_rate": "Complaint rate above the product's baseline",
    "burst": "Burst of complaints",
}
OPEN_STATES = [AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.ESCALATED]


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


@router.get("/alerts")
def alerts_page(request: Request, session: SessionDep, actor: WorkerDep) -> HTMLResponse:
    closed = request.query_params.get("closed") == "1"
    rows = list_alerts(session, actor.actor, states=None if closed else OPEN_STATES)
    now = datetime.now(UTC)
    waiting = [
        (report, lot, deadlines_of(report, now=now))
        for report, lot in list_reports(session, actor.actor)
        if report.resolved_at is None
    ]
    waiting.sort(key=lambda row: (not row[2].overdue, row[0].first_response_due_at))
    return render(
        "alerts.html",
        headers={"Cache-Control": "no-store"},
        signed_in=actor,
        alerts=[alert_view(alert, lot) for alert, lot in rows],
        rule_names=RULE_NAMES,
        closed=closed,
        waiting=waiting,
        overdue=sum(1 for row in waiting if row[2].overdue),
        categories=CATEGORY_LABELS,
    )


def _alert_page(
    session: Session,
    actor: WebActor,
    alert_id: int,
    *,
    error: tuple[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    alert = get_alert(session, actor.actor, alert_id)
    lot = None if alert.lot_key is None else session.get(Lot, alert.lot_key)
    view = alert_view(alert, lot)
    return render(
        "alert.html",
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
        signed_in=actor,
        alert=view,
        rule_name=RULE_NAMES.get(view.rule, view.rule),
        figures=_figures(view.statistic),
        error=None if error is None else {"field": error[0], "message": error[1]},
        form=form or {"recall_class": "1"},
        classes=CLASS_LABELS,
        meanings=CLASS_MEANING,
        may_escalate=view.lot_key is not None
        and view.state in ("open", "acknowledged")
        and actor.actor.custody == Custody.CUSTODIAL,
    )


_FIGURE_LABELS = {
    "complaints": "Complaints about the lot",
    "units": "Units shipped",
    "expected": "Complaints expected at the product's rate",
    "in_window": "Complaints in the window",
    "window_hours": "Window (hours)",
    "expected_in_window": "Expected in the window",
    "baseline_rate": "Product's rate per unit",
    "baseline_lots": "Other lots in the baseline",
    "baseline_complaints": "Their complaints",
    "baseline_units": "Their units shipped",
    "threshold": "Significance threshold",
}


def _figures(statistic: dict[str, Any]) -> list[tuple[str, str]]:
    def shown(value: Any) -> str:
        if isinstance(value, float) and not value.is_integer():
            return f"{value:.3g}"
        if isinstance(value, int | float):
            return f"{value:,.0f}"
        return str(value)

    return [
        (label, shown(statistic[key])) for key, label in _FIGURE_LABELS.items() if key in statistic
    ]


@router.get("/alerts/{alert_id:int}")
def alert_page(alert_id: int, session: SessionDep, actor: WorkerDep) -> HTMLResponse:
    return _alert_page(session, actor, alert_id)


def _back(alert_id: int) -> RedirectResponse:
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)


@router.post("/alerts/{alert_id:int}/acknowledge")
def acknowledge(
    alert_id: int, session: SessionDep, _checked: FormTokenDep, actor: WorkerDep
) -> Response:
    try:
        acknowledge_alert(session, actor.actor, alert_id)
    except AlertStateError as error:
        return _alert_page(
            session, actor, alert_id, error=("state", _sentence(str(error))), status_code=409
        )
    return _back(alert_id)


@router.post("/alerts/{alert_id:int}/close")
def close(
    alert_id: int,
    session: SessionDep,
    _checked: FormTokenDep,
    actor: WorkerDep,
    note: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    try:
        close_alert(session, actor.actor, alert_id, note=note)
    except (InvalidInputError, AlertStateError) as error:
        field = getattr(error, "field", "state")
        status = 422 if isinstance(error, InvalidInputError) else 409
        message = _sentence(getattr(error, "reason", str(error)))
        return _alert_page(
            session, actor, alert_id, error=(field, message), form={"note": note},
            status_code=status,
        )  # fmt: skip
    return _back(alert_id)


@router.post("/alerts/{alert_id:int}/escalate")
def escalate(
    alert_id: int,
    session: SessionDep,
    chain: ChainDep,
    _checked: FormTokenDep,
    actor: WorkerDep,
    recall_class: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=8000)] = "",
    consumer_instructions: Annotated[str, Form(max_length=8000)] = "",
    trade_instructions: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    form = {
        "recall_class": recall_class,
        "reason": reason,
        "consumer_instructions": consumer_instructions,
        "trade_instructions": trade_instructions,
    }

    def refused(field: str, message: str, status: int) -> HTMLResponse:
        return _alert_page(
            session, actor, alert_id, error=(field, _sentence(message)), form=form,
            status_code=status,
        )  # fmt: skip

    if actor.actor.custody != Custody.CUSTODIAL:
        return refused(
            "recall",
            "your key is held by you, not by this service: escalate with the API or `lotlink`",
            403,
        )
    try:
        wording = RecallWording(
            recall_class=int(recall_class) if recall_class.isdigit() else 0,
            reason=reason.strip(),
            consumer_instructions=consumer_instructions.strip(),
            trade_instructions=trade_instructions.strip(),
        )
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "recall"
        hint = "choose the recall's class" if field == "recall_class" else "please fill it in"
        return refused(field, f"{field.replace('_', ' ')}: {hint}", 422)
    try:
        escalate_alert(session, chain, actor.actor, alert_id, wording)
    except (InvalidInputError, AlertStateError) as error:
        field = getattr(error, "field", "state")
        return refused(field, getattr(error, "reason", str(error)), 409)
    page_cache.clear()  # the lot's scan page shows the recall at once
    return _back(alert_id)
