"""Delivering queued webhook messages: at least once, with retries that back off.

A message counts as delivered when its endpoint answers 2xx. Otherwise (another status, a
timeout, a refused connection) it is tried again on Standard Webhooks' recommended schedule,
5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after the attempts before, and then given up
as failed, about 28 hours after it was queued. Every attempt is signed afresh (its timestamp is
part of what is signed).

Several deliverers may share one database (workers, replicas): each claims a due row by moving
its ``next_attempt_at`` forward with a compare-and-set before sending, so a row is sent by one
of them; no transaction is open while a request is in flight.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from lotlink.config import Settings
from lotlink.db.engine import make_read_session_factory, make_session_factory
from lotlink.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from lotlink.services.periodic import PeriodicTask
from lotlink.services.webhooks import signed_headers

log = logging.getLogger("lotlink.webhooks")

#: Seconds to wait after the 1st, 2nd, … failed attempt; one more failure after the last gives up.
RETRY_SCHEDULE: tuple[int, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
#: How long a claimed row is left alone by other deliverers: longer than one attempt can take.
CLAIM_SECONDS = 120
BATCH = 32


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of one delivery attempt."""

    delivery_id: int
    status: int | None
    error: str | None

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _claim(session: Session, *, now: datetime, limit: int) -> list[tuple[WebhookDelivery, str]]:
    """Due rows this deliverer now owns, with their endpoints' URLs."""
    due = session.execute(
        select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
        .where(
            WebhookDelivery.state == DeliveryState.PENDING,
            WebhookDelivery.next_attempt_at <= now,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    ).all()
    claimed: list[int] = []
    lease = now + timedelta(seconds=CLAIM_SECONDS)
    for delivery_id, seen in due:
        moved = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.next_attempt_at == seen)
            .values(next_attempt_at=lease)
        )
        if moved.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(delivery_id)
    session.commit()
    if not claimed:
        return []
    rows = session.execute(
        select(WebhookDelivery, WebhookEndpoint.url)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.id.in_(claimed))
        .order_by(WebhookDelivery.id)
    ).all()
    return [(delivery, url) for delivery, url in rows]


def _send(client: httpx.Client, delivery: WebhookDelivery, url: str, secret: str) -> Attempt:
    headers = signed_headers(
        secret, message_id=delivery.message_id, body=delivery.body, at=datetime.now(UTC)
    )
    try:
        response = client.post(url, content=delivery.body.encode("utf-8"), headers=headers)
    except httpx.HTTPError as error:
        return Attempt(delivery.id, None, f"{type(error).__name__}: {error}"[:500])
    refusal = None if 200 <= response.status_code < 300 else response.text[:500]
    return Attempt(delivery.id, response.status_code, refusal)


def _record(session: Session, attempt: Attempt, *, now: datetime) -> None:
    delivery = session.get(WebhookDelivery, attempt.delivery_id)
    if delivery is None:  # its endpoint was deleted meanwhile
        return
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status = attempt.status
    delivery.last_error = attempt.error
    if attempt.accepted:
        delivery.state = DeliveryState.DELIVERED
        delivery.delivered_at = now
    elif delivery.attempts > len(RETRY_SCHEDULE):
        delivery.state = DeliveryState.FAILED
        log.warning(
            "webhook %s to endpoint %s failed for good after %d attempts: %s",
            delivery.message_id,
            delivery.endpoint_id,
            delivery.attempts,
            attempt.error or attempt.status,
        )
    else:
        delivery.next_attempt_at = now + timedelta(seconds=RETRY_SCHEDULE[delivery.attempts - 1])


def deliver_due(
    sessions: sessionmaker[Session],
    *,
    client: httpx.Client | None = None,
    limit: int = BATCH,
    now: datetime | None = None,
) -> list[Attempt]:
    """Sends the deliveries due at `now` (default: the clock; at most `limit`) once each and
    schedules the retries of those refused from `now`; returns the attempts. Signatures always
    carry the real time, which receivers check."""
    moment = now or datetime.now(UTC)
    with sessions() as session:
        claimed = _claim(session, now=moment, limit=limit)
        work = [
            (delivery, url, session.get_one(WebhookEndpoint, delivery.endpoint_id).secret)
            for delivery, url in claimed
        ]
        session.expunge_all()
    if not work:
        return []
    own_client = client is None
    http = client or httpx.Client(timeout=10.0, follow_redirects=False)
    try:
        attempts = [_send(http, delivery, url, secret) for delivery, url, secret in work]
    finally:
        if own_client:
            http.close()
    with sessions() as session:
        done = datetime.now(UTC) if now is None else now  # the clock retries count from
        for attempt in attempts:
            _record(session, attempt, now=done)
        session.commit()
    return attempts


def any_due(sessions: sessionmaker[Session], *, now: datetime | None = None) -> bool:
    """Whether a delivery is due: a read, so an idle deliverer never takes a write lock."""
    moment = now or datetime.now(UTC)
    with sessions() as session:
        found = session.scalar(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.state == DeliveryState.PENDING,
                WebhookDelivery.next_attempt_at <= moment,
            )
            .limit(1)
        )
    return found is not None


def start_deliverer(settings: Settings, engine: Engine) -> PeriodicTask:
    """The service's webhook deliverer, running in a background thread."""
    sessions = make_session_factory(engine)
    reads = make_read_session_factory(engine)
    client = httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False)

    def work() -> bool:
        if not any_due(reads):
            return False
        return len(deliver_due(sessions, client=client)) == BATCH  # a full batch: more waiting

    return PeriodicTask(
        "webhooks", work, interval=1.0, first_wait=False, on_stop=client.close
    ).start()
