"""Supplier scorecards over the API: ``GET /api/v1/suppliers/{gln}/scorecard`` (public, like
the page `/suppliers/{gln}` that shows the same figures)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from eth_utils import to_checksum_address
from fastapi import APIRouter, Query

from lotlink.api.deps import SessionDep
from lotlink.errors import InvalidInputError
from lotlink.schemas.scorecards import ComponentPublic, ScorecardPublic, SnapshotPublic
from lotlink.services.scorecards import find_supplier, scorecard

router = APIRouter(prefix="/api/v1/suppliers", tags=["suppliers"])


@router.get(
    "/{gln}/scorecard",
    summary="A supplier's grade (A to E), the measures behind it and its monthly history",
)
def read_scorecard(
    gln: str,
    session: SessionDep,
    at: Annotated[
        datetime | None,
        Query(
            description="The instant to grade at, with its offset (default: now); the same "
            "record gives the same scorecard."
        ),
    ] = None,
) -> ScorecardPublic:
    if at is not None and at.tzinfo is None:
        raise InvalidInputError(field="at", reason="give the instant with its UTC offset")
    supplier = find_supplier(session, gln)
    card = scorecard(session, supplier, now=at)
    current = card.current
    return ScorecardPublic(
        gln=supplier.gln or gln,
        name=supplier.name,
        address=to_checksum_address(supplier.address),
        grade=current.grade,
        score=round(current.score, 1),
        at=current.at,
        formula=card.formula,
        components=[
            ComponentPublic(
                key=c.key,
                title=c.title,
                weight=c.weight,
                score=None if c.score is None else round(c.score, 1),
                value=c.value,
                detail=c.detail,
            )
            for c in current.components
        ],
        history=[
            SnapshotPublic(at=s.at, score=round(s.score, 1), grade=s.grade)
            for s in [*card.history, current]
        ],
        page=f"/suppliers/{supplier.gln or gln}",
    )
