"""Recall pages: the public list (``/recalls``), each recall's page with its lineage picture
(``/recalls/{id}``), and the forms through which a signed-in regulator, or a supplier for its own
lots, issues, updates and closes recalls (on chain, through `lotlink.services.recalls`, exactly
as the API does).

Every form works without JavaScript; a refused one is shown again with the reason beside the
input and everything typed kept; a recall written here drops this process's cached scan pages,
so the lots' pages show it at once (other processes see it when their indexer reaches its block).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Any

from eth_utils import to_checksum_address
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from lotlink.api.deps import ChainDep, SessionDep
from lotlink.errors import InvalidInputError, RoleNotAllowedError
from lotlink.gs1.digital_link import DigitalLink
from lotlink.models import Actor, Recall, RecallStatus
from lotlink.models.actor import Custody
from lotlink.models.recall import closing_hash
from lotlink.services.chain_access import ChainAccess
from lotlink.services.recall_impact import RecallImpact, recall_impact
from lotlink.services.recalls import (
    close_recall,
    get_recall,
    issue_recall,
    list_recalls,
    reason_hash,
    recall_filter,
    update_recall,
)
from lotlink.vocabulary import Role
from lotlink.web.lineage_graph import draw, percent, quantity
from lotlink.web.page_cache import page_cache
from lotlink.web.recall_forms import (
    FormError,
    RecallInput,
    close_input,
    issue_input,
    update_input,
    wording_of,
)
from lotlink.web.scan import CLASS_LABELS, CLASS_MEANING, DEFAULT_ADVICE, LotLabel
from lotlink.web.session import FormTokenDep, SignedInDep, WebActor, signed_in_as
from lotlink.web.templating import render, render_text

router = APIRouter(include_in_schema=False)

RecallerDep = Annotated[
    WebActor,
    Depends(signed_in_as(Role.REGULATOR, Role.SUPPLIER, action="issue or change recalls")),
]
FILTERS = ("gtin", "lot_code", "gln", "issued_from", "issued_to")


def _names(session: Session, addresses: set[str | None]) -> dict[str, str]:
    wanted = sorted(a for a in addresses if a)
    rows = session.execute(select(Actor.address, Actor.name).where(Actor.address.in_(wanted)))
    found = {str(address): name or to_checksum_address(address) for address, name in rows}
    return {a: found.get(a, to_checksum_address(a)) for a in wanted}


def _summary(recall: Recall) -> dict[str, Any]:
    return {
        "id": recall.recall_id,
        "url": f"/recalls/{recall.recall_id}",
        "class_label": CLASS_LABELS.get(recall.recall_class, f"Class {recall.recall_class}"),
        "class_meaning": CLASS_MEANING.get(recall.recall_class, ""),
        "recall_class": recall.recall_class,
        "active": recall.status == RecallStatus.ACTIVE,
        "voluntary": recall.voluntary,
        "lots": [LotLabel.of(item.lot) for item in recall.lots],
        "reason": recall.reason or "The reason was recorded on the blockchain as a hash only.",
        "advice": recall.instructions_consumer
        or DEFAULT_ADVICE.get(recall.recall_class, DEFAULT_ADVICE[1]),
        "since": recall.issued_at,
        "closed_at": recall.closed_at,
    }


@router.get("/recalls")
def recall_list(request: Request, session: SessionDep, signed_in: SignedInDep) -> HTMLResponse:
    asked = {name: request.query_params.get(name, "").strip() for name in FILTERS}
    closed = request.query_params.get("closed") == "1"
    error: str | None = None
    error_field: str | None = None
    recalls: list[Recall] = []
    try:
        filters = recall_filter(
            gtin=asked["gtin"] or None,
            lot_code=asked["lot_code"] or None,
            gln=asked["gln"] or None,
            issued_from=_day(asked, "issued_from"),
            issued_to=_day(asked, "issued_to"),
        )
        recalls = list_recalls(session, active_only=not closed, filters=filters)
    except InvalidInputError as problem:
        error, error_field = _sentence(problem.reason), problem.field
    return render(
        "recalls.html",
        status_code=422 if error else 200,
        headers={"Cache-Control": "no-cache"},
        recalls=[_summary(r) for r in recalls],
        asked=asked,
        filtered=any(asked.values()),
        closed=closed,
        error=error,
        error_field=error_field,
        signed_in=signed_in,
    )


def _day(asked: dict[str, str], name: str) -> date | None:
    try:
        return date.fromisoformat(asked[name]) if asked[name] else None
    except ValueError:
        raise InvalidInputError(
            field=name, reason=f"{asked[name]!r} is not a date; write it as YYYY-MM-DD"
        ) from None


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _may_change(recall: Recall, actor: WebActor) -> bool:
    return actor.has(Role.REGULATOR) or recall.issuer_address == actor.actor.address.lower()


@router.get("/recalls/new")
def new_recall(actor: RecallerDep) -> HTMLResponse:
    return _form_page(actor, RecallInput(recall_class="1"))


def _form_page(
    actor: WebActor,
    form: RecallInput,
    error: FormError | None = None,
    *,
    recall: Recall | None = None,
) -> HTMLResponse:
    """The issue form, or with `recall` its update and close forms; `error` beside its input."""
    return render(
        "recall_form.html",
        status_code=error.status if error else 200,
        headers={"Cache-Control": "no-store"},
        mode="issue" if recall is None else "edit",
        recall=recall,
        summary=None if recall is None else _summary(recall),
        form=form,
        error=error,
        signed_in=actor,
        classes=CLASS_LABELS,
        meanings=CLASS_MEANING,
    )


@router.post("/recalls")
def issue(
    session: SessionDep,
    chain: ChainDep,
    _checked: FormTokenDep,
    actor: RecallerDep,
    lots: Annotated[str, Form()] = "",
    recall_class: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    consumer_instructions: Annotated[str, Form()] = "",
    trade_instructions: Annotated[str, Form()] = "",
) -> Response:
    form = RecallInput(lots, recall_class, reason, consumer_instructions, trade_instructions)
    try:
        created = issue_input(session, actor.actor, actor.roles, form)
        _custodial(actor)
        recall = issue_recall(session, chain, actor.actor, created)
    except FormError as error:
        return _form_page(actor, form, error)
    except InvalidInputError as error:
        return _form_page(actor, form, FormError(error.field, _sentence(error.reason)))
    page_cache.clear()
    return RedirectResponse(f"/recalls/{recall.recall_id}", status_code=303)


def _custodial(actor: WebActor) -> None:
    """A self-custody actor signs its own writes; this page cannot do that for it."""
    if actor.actor.custody != Custody.CUSTODIAL:
        raise FormError(
            "recall",
            "Your key is held by you, not by this service, so recalls must carry your own "
            "signature: issue and change them with the API or `lotlink` instead.",
            status=403,
        )


@router.get("/recalls/{recall_id:int}")
def recall_page(
    recall_id: int, request: Request, session: SessionDep, signed_in: SignedInDep
) -> HTMLResponse:
    recall = get_recall(session, recall_id)
    impact = recall_impact(session, recall)
    names = _names(session, {recall.issuer_address, recall.updated_by, recall.closed_by})
    wording = wording_of(
        recall.recall_class, recall.reason, recall.instructions_consumer, recall.instructions_trade
    )
    deployment = request.app.state.deployment
    return render(
        "recall.html",
        headers={"Cache-Control": "no-cache"},
        recall=recall,
        summary=_summary(recall),
        names=names,
        wording_matches=None
        if wording is None
        else reason_hash(wording).hex() == recall.reason_hash.removeprefix("0x"),
        closing_matches=None
        if recall.closed_reason_hash is None or recall.closed_reason is None
        else closing_hash(recall.closed_reason) == recall.closed_reason_hash,
        chain_id=None if deployment is None else deployment.chain_id,
        contract=None if deployment is None else deployment.address(),
        impact=impact,
        picture=draw(impact),
        tables=_tables(impact),
        may_change=signed_in is not None and _may_change(recall, signed_in),
        signed_in=signed_in,
    )


@router.get("/recalls/{recall_id:int}/lineage.svg")
def lineage_picture(recall_id: int, session: SessionDep) -> Response:
    """The recall page's picture as a file of its own, to zoom into or save."""
    recall = get_recall(session, recall_id)
    impact = recall_impact(session, recall)
    picture = draw(impact)
    svg = render_text("lineage_graph.svg", recall=recall, impact=impact, picture=picture)
    return Response(
        '<?xml version="1.0" encoding="UTF-8"?>\n' + svg,
        media_type="image/svg+xml",
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )


def _tables(impact: RecallImpact) -> dict[str, Any]:
    """The picture's content as rows: the accessible view, and the only one for big recalls."""
    lots = impact.lots
    affected = []
    for role in ("recalled", "affected", "source", "input"):
        for lot in sorted(impact.of_role(role), key=lambda lot: (lot.gtin, lot.lot_code)):
            affected.append(
                {
                    "lot": lot,
                    "url": DigitalLink(gtin=lot.gtin, lot=lot.lot_code).path,
                    "quantity": quantity(lot.quantity_milli, lot.unit),
                    "owner": lot.owner_name or to_checksum_address(lot.owner),
                    "shares": [
                        (
                            lots[key].lot_code,
                            percent(share),
                            quantity(lot.traced_milli.get(key), lots[key].unit),
                        )
                        for key, share in lot.shares.items()
                    ],
                }
            )
    shipments = [
        {
            "lot": lots[s.lot_key],
            "from": s.shipped.place if s.shipped else None,
            "to": s.destinations,
            "shipped": None if s.shipped is None else quantity(s.shipped_milli, s.shipped.unit),
            "shipped_at": None if s.shipped is None else s.shipped.event_time,
            "received": None if s.received is None else quantity(s.received_milli, s.received.unit),
            "received_at": None if s.received is None else s.received.event_time,
            "received_place": None if s.received is None else s.received.place,
            "short": s.shipped_milli is not None
            and s.received_milli is not None
            and s.received_milli < s.shipped_milli,
        }
        for s in impact.shipments
    ]
    places = [
        {
            "gln": place.gln,
            "name": place.name,
            "deliveries": [
                {
                    "lot": lots[went.lot_key],
                    "shipped": quantity(went.shipped_milli, went.unit),
                    "received": None
                    if went.received_milli is None
                    else quantity(went.received_milli, went.unit),
                }
                for went in place.deliveries.values()
            ],
        }
        for place in sorted(impact.places.values(), key=lambda p: (p.name or "", p.gln))
    ]
    return {"lots": affected, "shipments": shipments, "places": places}


def _changeable(session: Session, recall_id: int, actor: WebActor) -> Recall:
    recall = get_recall(session, recall_id)
    if not _may_change(recall, actor):
        raise RoleNotAllowedError(
            actor=f"{actor.name} ({actor.address})",
            action=f"change recall {recall_id}",
            allowed=["its issuer", "regulator"],
        )
    return recall


def _wording_input(recall: Recall) -> RecallInput:
    """The update form filled with the recall's current class and wording."""
    return RecallInput(
        recall_class=str(recall.recall_class),
        reason=recall.reason or "",
        consumer_instructions=recall.instructions_consumer or "",
        trade_instructions=recall.instructions_trade or "",
    )


@router.get("/recalls/{recall_id:int}/edit")
def edit_recall(recall_id: int, session: SessionDep, actor: RecallerDep) -> HTMLResponse:
    recall = _changeable(session, recall_id, actor)
    return _form_page(actor, _wording_input(recall), recall=recall)


def _change(
    session: Session,
    chain: ChainAccess,
    actor: WebActor,
    recall_id: int,
    form: RecallInput,
    *,
    closing: bool,
) -> Response:
    recall = _changeable(session, recall_id, actor)
    if closing:  # shown again on a refusal: the update form keeps the recall's own wording
        form = replace(_wording_input(recall), close_reason=form.close_reason)
    try:
        if recall.status != RecallStatus.ACTIVE:
            raise FormError("recall", "This recall is closed: it can no longer change.")
        _custodial(actor)
        if closing:
            close_recall(session, chain, actor.actor, recall_id, close_input(form))
        else:
            update_recall(session, chain, actor.actor, recall_id, update_input(form))
    except FormError as error:
        return _form_page(actor, form, error, recall=recall)
    except InvalidInputError as error:
        return _form_page(
            actor, form, FormError(error.field, _sentence(error.reason)), recall=recall
        )
    page_cache.clear()
    return RedirectResponse(f"/recalls/{recall_id}", status_code=303)


@router.post("/recalls/{recall_id:int}/update")
def update(
    recall_id: int,
    session: SessionDep,
    chain: ChainDep,
    _checked: FormTokenDep,
    actor: RecallerDep,
    recall_class: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    consumer_instructions: Annotated[str, Form()] = "",
    trade_instructions: Annotated[str, Form()] = "",
) -> Response:
    form = RecallInput("", recall_class, reason, consumer_instructions, trade_instructions)
    return _change(session, chain, actor, recall_id, form, closing=False)


@router.post("/recalls/{recall_id:int}/close")
def close(
    recall_id: int,
    session: SessionDep,
    chain: ChainDep,
    _checked: FormTokenDep,
    actor: RecallerDep,
    close_reason: Annotated[str, Form()] = "",
) -> Response:
    return _change(session, chain, actor, recall_id, RecallInput(close_reason=close_reason),
                   closing=True)  # fmt: skip
