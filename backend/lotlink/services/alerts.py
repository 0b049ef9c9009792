"""Alerts, whatever rule raised them: opening one from a rule's finding, who may see it, and
working it (acknowledge, escalate to a recall, close).

An alert reaches the supplier it concerns and every regulator: they alone may list and read
it, and each change (opened, acknowledged, escalated, closed) is queued as a signed webhook to
their endpoints in the same transaction as the change itself.

A rule reports a finding as an `AlertSignal`. While an alert about the same thing (its
fingerprint: kind, rule and subject) is not closed, a new finding updates its figures instead of
opening another (and sends no new message: the API and pages show the latest figures). Once
closed, a finding opens a new alert only if its ``observed`` figure grew past the one the closed
alert had: closing says "these complaints are explained", not "never tell me again". A finding
without an ``observed`` figure (a one-off event) is not raised again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lotlink.errors import AlertNotFoundError, AlertStateError, InvalidInputError
from lotlink.models import Actor, ActorRole, Alert, AlertState, Lot
from lotlink.schemas.alerts import AlertLinks, AlertPublic
from lotlink.schemas.lots import ClientAuthorization
from lotlink.schemas.recalls import RecallCreate, RecalledLot, RecallWording
from lotlink.services.actors import actor_roles
from lotlink.services.chain_access import ChainAccess
from lotlink.services.recalls import issue_recall
from lotlink.services.webhooks import enqueue
from lotlink.vocabulary import Role


@dataclass(frozen=True, slots=True)
class AlertSignal:
    """What a rule found: enough to open (or update) an alert."""

    kind: str  # the feature whose rules raise it: "complaints", "certificates", "copies"...
    rule: str  # the test that fired: "poisson_rate", "burst"...
    subject: str  # what it is about, unique within the rule (a lot key, a certificate id)
    reason: str  # one sentence with the figures, for people
    lot_key: str | None = None
    gtin: str | None = None
    supplier: str | None = None  # the actor it concerns, who receives it
    p_value: float | None = None
    statistic: dict[str, Any] = field(default_factory=dict)
    observed: float | None = None

    @property
    def fingerprint(self) -> str:
        return f"{self.kind}:{self.rule}:{self.subject}"


def _figures(signal: AlertSignal) -> dict[str, Any]:
    if signal.observed is None:
        return dict(signal.statistic)
    return {**signal.statistic, "observed": signal.observed}


def raise_alert(
    session: Session, signal: AlertSignal, *, now: datetime | None = None
) -> Alert | None:
    """Opens an alert for `signal`, or updates the one not yet closed about the same thing.
    Returns the alert, or None when a closed alert already covers the finding. The caller
    commits (the alert and its webhooks together)."""
    moment = now or datetime.now(UTC)
    current = _not_closed(session, signal.fingerprint)
    if current is None:
        if _covered_by_closed(session, signal):
            return None
        alert = Alert(
            kind=signal.kind,
            rule=signal.rule,
            fingerprint=signal.fingerprint,
            lot_key=signal.lot_key,
            gtin=signal.gtin,
            supplier_address=None if signal.supplier is None else signal.supplier.lower(),
            p_value=signal.p_value,
            statistic=_figures(signal),
            reason=signal.reason,
            opened_at=moment,
            updated_at=moment,
        )
        try:
            with session.begin_nested():
                session.add(alert)
        except IntegrityError:  # another process opened it first: update that one
            current = _not_closed(session, signal.fingerprint)
            if current is None:
                raise
        else:
            notify(session, alert, "alert.opened", now=moment)
            return alert
    current.p_value = signal.p_value
    current.statistic = _figures(signal)
    current.reason = signal.reason
    current.updated_at = moment
    return current


def _not_closed(session: Session, fingerprint: str) -> Alert | None:
    return session.scalar(
        select(Alert).where(Alert.fingerprint == fingerprint, Alert.state != AlertState.CLOSED)
    )


def _covered_by_closed(session: Session, signal: AlertSignal) -> bool:
    closed = session.scalar(
        select(Alert)
        .where(Alert.fingerprint == signal.fingerprint, Alert.state == AlertState.CLOSED)
        .order_by(Alert.closed_at.desc(), Alert.id.desc())
        .limit(1)
    )
    if closed is None:
        return False
    before = closed.statistic.get("observed")
    return signal.observed is None or before is None or signal.observed <= float(before)


def recipients(session: Session, alert: Alert) -> list[str]:
    """The supplier the alert concerns and every regulator."""
    regulators = session.scalars(
        select(ActorRole.actor_address).where(ActorRole.role == Role.REGULATOR)
    ).all()
    found = set(regulators)
    if alert.supplier_address is not None:
        found.add(alert.supplier_address)
    return sorted(found)


def notify(session: Session, alert: Alert, event_type: str, *, now: datetime | None = None) -> int:
    """Queues `event_type` ("alert.opened", …) with the alert's public view for its recipients."""
    session.flush()
    lot = None if alert.lot_key is None else session.get(Lot, alert.lot_key)
    return enqueue(
        session,
        recipients=recipients(session, alert),
        event_type=event_type,
        data=alert_view(alert, lot).model_dump(mode="json"),
        now=now,
    )


def alert_view(alert: Alert, lot: Lot | None) -> AlertPublic:
    """An alert as the API and webhooks show it, with links to the lot's trace and recall."""
    links = AlertLinks(self=f"/api/v1/alerts/{alert.id}", page=f"/alerts/{alert.id}")
    if alert.lot_key is not None:
        links.trace = f"/api/v1/lots/{alert.lot_key}/trace"
    if lot is not None:
        links.scan_page = f"/01/{lot.gtin}/10/{lot.lot_code}"
    if alert.recall_id is not None:
        links.recall = f"/api/v1/recalls/{alert.recall_id}"
        links.recall_evidence = f"/api/v1/recalls/{alert.recall_id}/evidence"

    def who(address: str | None) -> str | None:
        return None if address is None else to_checksum_address(address)

    return AlertPublic(
        id=alert.id,
        kind=alert.kind,
        rule=alert.rule,
        state=str(alert.state),
        lot_key=alert.lot_key,
        gtin=alert.gtin if alert.gtin is not None else (lot.gtin if lot else None),
        lot_code=None if lot is None else lot.lot_code,
        product_name=None if lot is None else lot.product_name,
        supplier=who(alert.supplier_address),
        p_value=alert.p_value,
        statistic=alert.statistic,
        reason=alert.reason,
        opened_at=alert.opened_at,
        updated_at=alert.updated_at,
        acknowledged_at=alert.acknowledged_at,
        acknowledged_by=who(alert.acknowledged_by),
        escalated_at=alert.escalated_at,
        escalated_by=who(alert.escalated_by),
        recall_id=alert.recall_id,
        closed_at=alert.closed_at,
        closed_by=who(alert.closed_by),
        close_note=alert.close_note,
        links=links,
    )


# --- Reading -----------------------------------------------------------------------------------


def visible_to(actor: Actor) -> Select[Any]:
    """Alerts `actor` may see: all for a regulator, else those concerning it."""
    query = select(Alert)
    if Role.REGULATOR not in actor_roles(actor):
        query = query.where(Alert.supplier_address == actor.address)
    return query


def list_alerts(
    session: Session,
    actor: Actor,
    *,
    states: list[AlertState] | None = None,
    kind: str | None = None,
    lot_key: str | None = None,
    limit: int = 500,
) -> list[tuple[Alert, Lot | None]]:
    """The alerts `actor` may see, newest first, with their lots."""
    query = visible_to(actor)
    if states:
        query = query.where(Alert.state.in_(states))
    if kind is not None:
        query = query.where(Alert.kind == kind)
    if lot_key is not None:
        query = query.where(Alert.lot_key == lot_key)
    rows = session.execute(
        query.add_columns(Lot)
        .outerjoin(Lot, Lot.lot_key == Alert.lot_key)
        .order_by(Alert.opened_at.desc(), Alert.id.desc())
        .limit(limit)
    )
    return [(alert, lot) for alert, lot in rows]


def get_alert(session: Session, actor: Actor, alert_id: int) -> Alert:
    """One alert `actor` may see; AlertNotFoundError otherwise (unseen alerts do not exist)."""
    alert = session.scalar(visible_to(actor).where(Alert.id == alert_id))
    if alert is None:
        raise AlertNotFoundError(alert_id=alert_id)
    return alert


# --- Working an alert --------------------------------------------------------------------------


def acknowledge_alert(session: Session, actor: Actor, alert_id: int) -> Alert:
    """Marks an open alert as seen by `actor`; acknowledging it again changes nothing."""
    alert = get_alert(session, actor, alert_id)
    if alert.state is AlertState.ACKNOWLEDGED:
        return alert
    if alert.state is not AlertState.OPEN:
        raise AlertStateError(alert_id=alert.id, state=alert.state, action="acknowledged")
    moment = datetime.now(UTC)
    alert.state = AlertState.ACKNOWLEDGED
    alert.acknowledged_at = moment
    alert.acknowledged_by = actor.address
    notify(session, alert, "alert.acknowledged", now=moment)
    session.commit()
    return alert


def close_alert(session: Session, actor: Actor, alert_id: int, *, note: str) -> Alert:
    """Closes an alert with a note saying why (explained, dealt with, a recall done)."""
    note = note.strip()
    if not note:
        raise InvalidInputError(field="note", reason="say why the alert is closed")
    alert = get_alert(session, actor, alert_id)
    if alert.state is AlertState.CLOSED:
        raise AlertStateError(alert_id=alert.id, state=alert.state, action="closed again")
    moment = datetime.now(UTC)
    alert.state = AlertState.CLOSED
    alert.closed_at = moment
    alert.closed_by = actor.address
    alert.close_note = note[:4000]
    notify(session, alert, "alert.closed", now=moment)
    session.commit()
    return alert


def escalate_alert(
    session: Session,
    chain: ChainAccess,
    actor: Actor,
    alert_id: int,
    wording: RecallWording,
    *,
    authorization: ClientAuthorization | None = None,
) -> Alert:
    """Issues a recall of the alert's lot on chain (`services.recalls.issue_recall`: any lot for
    a regulator, a voluntary one for the lot's owner) and links it to the alert.

    The alert is claimed first (compare-and-set to ``escalated``), so two escalations cannot
    issue two recalls; if the chain refuses the recall, the claim is undone."""
    alert = get_alert(session, actor, alert_id)
    if alert.lot_key is None:
        raise AlertStateError(alert_id=alert.id, state="about no lot", action="escalated")
    before = alert.state
    if before not in (AlertState.OPEN, AlertState.ACKNOWLEDGED):
        raise AlertStateError(alert_id=alert.id, state=before, action="escalated")
    moment = datetime.now(UTC)
    claimed = session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.state == before)
        .values(state=AlertState.ESCALATED, escalated_at=moment, escalated_by=actor.address)
    )
    session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(alert)
        raise AlertStateError(alert_id=alert.id, state=alert.state, action="escalated")
    form = RecallCreate(
        recall_class=wording.recall_class,
        reason=wording.reason,
        consumer_instructions=wording.consumer_instructions,
        trade_instructions=wording.trade_instructions,
        lots=[RecalledLot(lot_key=alert.lot_key)],
        authorization=authorization,
    )
    try:
        recall = issue_recall(session, chain, actor, form)
    except BaseException:
        session.rollback()
        session.execute(
            update(Alert)
            .where(Alert.id == alert.id)
            .values(state=before, escalated_at=None, escalated_by=None)
        )
        session.commit()
        raise
    alert = session.get_one(Alert, alert.id)
    session.refresh(alert)
    alert.recall_id = recall.recall_id
    notify(session, alert, "alert.escalated")
    session.commit()
    return alert
