"""FSMA 204 export: the query that picks the rows and the file's format."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from lotlink.schemas.common import Input
from lotlink.services.trace import Direction


class Fsma204Query(Input):
    """`GET /api/v1/fsma204` query parameters; `fsma204_request` checks the GS1 keys."""

    tlc: list[str] = Field(
        default_factory=list, description="Traceability lot codes as GTIN/LOT (repeatable)."
    )
    lot_key: list[str] = Field(default_factory=list, description="0x lot keys (repeatable).")
    gtin: str | None = Field(default=None, description="Every lot of this GTIN.")
    date_from: date | None = Field(default=None, description="Events on or after (UTC day).")
    date_to: date | None = Field(default=None, description="Events on or before (UTC day).")
    trace: Direction | None = Field(
        default=None, description="Add every lot upstream, downstream or both of those named."
    )
    format: Literal["csv", "xlsx"] = Field(default="csv", description="csv or xlsx.")
