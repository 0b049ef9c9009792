"""Supplier scorecards as the API shows them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ComponentPublic(BaseModel):
    key: str
    title: str
    weight: int
    score: float | None = Field(description="0 to 100; null when the measure has no data.")
    value: str
    detail: str


class SnapshotPublic(BaseModel):
    at: datetime
    score: float
    grade: str


class ScorecardPublic(BaseModel):
    gln: str
    name: str | None
    address: str
    grade: str
    score: float
    at: datetime
    formula: str
    components: list[ComponentPublic]
    history: list[SnapshotPublic] = Field(
        description="The scorecard at the start of each of the last twelve months and this one."
    )
    page: str
