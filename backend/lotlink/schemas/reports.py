"""Problem reports over the API: forwarding one, answering one, and how one is shown."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, model_validator

from lotlink.schemas.common import Input


class ReportForward(Input):
    """A complaint received elsewhere (a shop's desk, a call centre), entered by that actor."""

    lot_key: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{64}$")
    gtin: str | None = None
    lot_code: str | None = None
    serial: str | None = Field(default=None, max_length=20)
    category: str = Field(description="quality_defect, illness_or_injury, damaged, "
                          "suspected_counterfeit or other.")  # fmt: skip
    description: str
    contact: str | None = None
    received_at: str = Field(
        description="When the complaint was received, ISO 8601 with its UTC offset "
        '("2026-03-29T01:30:00+01:00"), or a local time with time_zone.',
        examples=["2026-03-29T01:30:00+01:00"],
    )
    time_zone: str | None = Field(
        default=None, description='An IANA zone ("Europe/Paris") for a received_at without offset.'
    )

    @model_validator(mode="after")
    def _one_lot(self) -> ReportForward:
        if (self.lot_key is None) == (self.gtin is None or self.lot_code is None):
            raise ValueError("name the lot by lot_key, or by gtin and lot_code")
        return self


class ReportAnswer(Input):
    message: str = Field(
        min_length=1,
        max_length=4000,
        description="What you tell the reporter: shown on the public status page.",
    )
    resolves: bool = Field(default=False, description="This answer resolves the report.")


class ReportResponsePublic(BaseModel):
    kind: str
    actor: str
    message: str
    created_at: datetime


class ReportPublic(BaseModel):
    """A report as its lot's supplier and regulators see it, with its deadlines and status."""

    reference: str
    lot_key: str
    gtin: str
    lot_code: str
    supplier: str
    serial: str | None
    category: str
    description: str
    contact: str | None
    photo: str | None
    created_at: datetime
    received_at: datetime
    received_offset: str | None
    submitted_by: str | None
    status: str = Field(description="awaiting_response, responded or resolved.")
    first_response_due_at: datetime
    resolution_due_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    first_response_overdue: bool
    resolution_overdue: bool
    first_response_on_time: bool | None
    resolution_on_time: bool | None
    responses: list[ReportResponsePublic]
    status_page: str
