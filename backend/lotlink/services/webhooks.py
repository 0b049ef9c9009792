"""Signed webhooks: actors register endpoints; events are queued for them in a durable outbox
(``webhook_delivery``) in the same transaction as the change they announce, and delivered by
`lotlink.services.webhook_delivery`.

Messages follow Standard Webhooks (the ``standardwebhooks`` package signs them): the body is
``{"type": …, "timestamp": …, "data": {…}}``; the headers ``webhook-id`` (the same on every retry,
so a receiver drops duplicates), ``webhook-timestamp`` (Unix seconds of the attempt) and
``webhook-signature`` (``v1,`` and the base64 HMAC-SHA256, keyed by the endpoint's secret, of
``id.timestamp.body``). A receiver verifies with any Standard Webhooks library and the secret.

Endpoints are URLs an actor chooses, fetched by this service: only http and https, no
credentials in the URL, and no redirects are followed. An operator who does not trust its actors
should also keep the service from reaching private addresses (an egress rule).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from lotlink.errors import InvalidInputError, WebhookEndpointNotFoundError
from lotlink.models import Actor, WebhookDelivery, WebhookEndpoint

MAX_URL = 2000


def new_secret() -> str:
    """A fresh signing secret, as Standard Webhooks writes it: ``whsec_`` and 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def new_message_id() -> str:
    return "msg_" + secrets.token_hex(16)


def check_url(url: str) -> str:
    """`url` if it is an absolute http(s) URL without credentials; InvalidInputError otherwise."""
    url = url.strip()
    if len(url) > MAX_URL:
        raise InvalidInputError(field="url", reason=f"longer than {MAX_URL} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(field="url", reason="must be an absolute http:// or https:// URL")
    if parts.username or parts.password:
        raise InvalidInputError(field="url", reason="must not carry a user name or password")
    return url


def register_endpoint(session: Session, actor: Actor, *, url: str) -> WebhookEndpoint:
    """Adds an endpoint for `actor` with a new secret; registering a known URL again gives it a
    new secret (rotation) and re-enables it. The caller commits."""
    url = check_url(url)
    endpoint = session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.actor_address == actor.address, WebhookEndpoint.url == url
        )
    )
    if endpoint is None:
        endpoint = WebhookEndpoint(actor_address=actor.address, url=url, secret=new_secret())
        session.add(endpoint)
    else:
        endpoint.secret = new_secret()
        endpoint.disabled_at = None
    session.flush()
    return endpoint


def list_endpoints(session: Session, actor: Actor) -> list[WebhookEndpoint]:
    return list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.actor_address == actor.address)
            .order_by(WebhookEndpoint.id)
        )
    )


def disable_endpoint(session: Session, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    """Stops queueing messages for one of `actor`'s endpoints (those queued are still tried)."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.actor_address != actor.address:
        raise WebhookEndpointNotFoundError(endpoint_id=endpoint_id)
    if endpoint.disabled_at is None:
        endpoint.disabled_at = datetime.now(UTC)
    return endpoint


def message_body(event_type: str, data: dict[str, Any], *, at: datetime) -> str:
    """The exact text that is signed and sent: compact JSON with sorted keys."""
    envelope = {"type": event_type, "timestamp": at.astimezone(UTC).isoformat(), "data": data}
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def enqueue(
    session: Session,
    *,
    recipients: Iterable[str],
    event_type: str,
    data: dict[str, Any],
    now: datetime | None = None,
) -> int:
    """Queues one message for every enabled endpoint of the `recipients` (actor addresses), in
    the caller's transaction; returns how many deliveries were queued."""
    addresses = sorted({address.lower() for address in recipients})
    if not addresses:
        return 0
    endpoints = session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.actor_address.in_(addresses), WebhookEndpoint.disabled_at.is_(None)
        )
    ).all()
    moment = now or datetime.now(UTC)
    body = message_body(event_type, data, at=moment)
    message_id = new_message_id()
    for endpoint in endpoints:
        session.add(
            WebhookDelivery(
                endpoint_id=endpoint.id,
                message_id=message_id,
                event_type=event_type,
                body=body,
                created_at=moment,
                next_attempt_at=moment,
            )
        )
    return len(endpoints)


def signed_headers(secret: str, *, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt to send `body` at `at`."""
    moment = at.astimezone(UTC)
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, moment, body),
    }
