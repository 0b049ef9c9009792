"""`/api/v1/alerts`: the alerts an actor may see (the supplier concerned, every regulator), and
working them: acknowledge, escalate to a recall on chain in one step, close.

`/api/v1/webhooks`: each actor's own webhook endpoints, where its alerts are also sent, signed
(Standard Webhooks; see `lotlink.services.webhooks`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from lotlink.api.deps import ActorDep, ChainDep, SessionDep
from lotlink.models import AlertState, Lot, WebhookEndpoint
from lotlink.schemas.alerts import (
    AlertClose,
    AlertEscalate,
    AlertPublic,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointPublic,
)
from lotlink.services.alerts import (
    acknowledge_alert,
    alert_view,
    close_alert,
    escalate_alert,
    get_alert,
    list_alerts,
)
from lotlink.services.lots import LOT_KEY_PATTERN, find_lot
from lotlink.services.webhooks import disable_endpoint, list_endpoints, register_endpoint

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
webhooks_router = APIRouter(prefix="/api/v1/webhooks", tags=["alerts"])


def _public(session: SessionDep, alert_id: int, actor: ActorDep) -> AlertPublic:
    alert = get_alert(session, actor, alert_id)
    lot = None if alert.lot_key is None else session.get(Lot, alert.lot_key)
    return alert_view(alert, lot)


@router.get("", summary="Alerts about the actor's lots (every alert for a regulator)")
def listing(
    session: SessionDep,
    actor: ActorDep,
    state: Annotated[
        list[AlertState] | None, Query(description="Only these states (repeat the parameter).")
    ] = None,
    kind: Annotated[str | None, Query(description='Only this kind, e.g. "complaints".')] = None,
    lot: Annotated[
        str | None, Query(description="Only this lot (its 0x key).", pattern=LOT_KEY_PATTERN)
    ] = None,
) -> list[AlertPublic]:
    lot_key = None if lot is None else find_lot(session, lot, field="lot").lot_key
    rows = list_alerts(session, actor, states=state, kind=kind, lot_key=lot_key)
    return [alert_view(alert, lot_row) for alert, lot_row in rows]


@router.get("/{alert_id}", summary="One alert")
def read(alert_id: int, session: SessionDep, actor: ActorDep) -> AlertPublic:
    return _public(session, alert_id, actor)


@router.post("/{alert_id}/acknowledge", summary="Mark an open alert as seen")
def acknowledge(alert_id: int, session: SessionDep, actor: ActorDep) -> AlertPublic:
    acknowledge_alert(session, actor, alert_id)
    return _public(session, alert_id, actor)


@router.post(
    "/{alert_id}/escalate",
    summary="Recall the alert's lot on chain (class and wording) and link the recall",
)
def escalate(
    alert_id: int, form: AlertEscalate, session: SessionDep, chain: ChainDep, actor: ActorDep
) -> AlertPublic:
    escalate_alert(session, chain, actor, alert_id, form, authorization=form.authorization)
    return _public(session, alert_id, actor)


@router.post("/{alert_id}/close", summary="Close an alert, saying why")
def close(alert_id: int, form: AlertClose, session: SessionDep, actor: ActorDep) -> AlertPublic:
    close_alert(session, actor, alert_id, note=form.note)
    return _public(session, alert_id, actor)


def _endpoint(endpoint: WebhookEndpoint) -> WebhookEndpointPublic:
    return WebhookEndpointPublic(
        id=endpoint.id,
        url=endpoint.url,
        created_at=endpoint.created_at,
        disabled_at=endpoint.disabled_at,
    )


@webhooks_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a webhook endpoint (again: a new secret); returns its signing secret",
)
def add_endpoint(
    form: WebhookEndpointCreate, session: SessionDep, actor: ActorDep
) -> WebhookEndpointCreated:
    endpoint = register_endpoint(session, actor, url=form.url)
    session.commit()
    return WebhookEndpointCreated(**_endpoint(endpoint).model_dump(), secret=endpoint.secret)


@webhooks_router.get("", summary="The actor's webhook endpoints (secrets are not shown again)")
def endpoints(session: SessionDep, actor: ActorDep) -> list[WebhookEndpointPublic]:
    return [_endpoint(endpoint) for endpoint in list_endpoints(session, actor)]


@webhooks_router.delete("/{endpoint_id}", summary="Stop sending to one of the actor's endpoints")
def remove_endpoint(
    endpoint_id: int, session: SessionDep, actor: ActorDep
) -> WebhookEndpointPublic:
    endpoint = disable_endpoint(session, actor, endpoint_id)
    session.commit()
    return _endpoint(endpoint)
