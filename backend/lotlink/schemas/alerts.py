"""Alerts and webhook endpoints: inputs and the public views the API and webhooks share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from lotlink.schemas.common import Input
from lotlink.schemas.lots import ClientAuthorization
from lotlink.schemas.recalls import RecallWording


class AlertLinks(BaseModel):
    """Where to look next: the alert itself, its page, the lot's trace and scan page, the recall
    an escalation issued and its evidence bundle."""

    self: str
    page: str
    trace: str | None = None
    scan_page: str | None = None
    recall: str | None = None
    recall_evidence: str | None = None


class AlertPublic(BaseModel):
    """An alert: what it concerns, the rule and its figures, and where it stands."""

    id: int
    kind: str
    rule: str
    state: str
    lot_key: str | None
    gtin: str | None
    lot_code: str | None
    product_name: str | None
    supplier: str | None
    p_value: float | None = Field(description="The rule's p-value, when it is a statistical test.")
    statistic: dict[str, Any] = Field(description="The figures the rule computed.")
    reason: str
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    escalated_at: datetime | None
    escalated_by: str | None
    recall_id: int | None
    closed_at: datetime | None
    closed_by: str | None
    close_note: str | None
    links: AlertLinks


class AlertEscalate(RecallWording):
    """The recall to issue for the alert's lot: its class and wording."""

    authorization: ClientAuthorization | None = None


class AlertClose(Input):
    note: str = Field(min_length=1, max_length=4000, description="Why the alert is closed.")


class WebhookEndpointCreate(Input):
    url: str = Field(min_length=1, max_length=2000, examples=["https://example.com/lotlink"])


class WebhookEndpointPublic(BaseModel):
    id: int
    url: str
    created_at: datetime
    disabled_at: datetime | None


class WebhookEndpointCreated(WebhookEndpointPublic):
    """A new (or re-registered) endpoint with its signing secret: shown now, keep it safe."""

    secret: str
