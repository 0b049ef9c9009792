"""`/api/v1/recalls`: issue, update and close recalls on chain; list and read them.

A regulator may recall any lot; a supplier only lots it owns (a voluntary recall).

``GET /api/v1/recalls`` looks recalls up by GTIN (any GTIN-8/12/13/14 form), lot (GTIN and lot
code), GLN and dates; by default it lists the active recalls that reach the lots asked for,
inherited ones included (see `lotlink.services.recalls`).
"""

from __future__ import annotations

from typing import Annotated

from eth_utils import to_checksum_address
from fastapi import APIRouter, Depends, Query, status

from lotlink.api.deps import ChainDep, SessionDep, require_role
from lotlink.models import Actor, Recall
from lotlink.schemas.recalls import (
    RecallClose,
    RecallCreate,
    RecallLookup,
    RecallLotPublic,
    RecallPublic,
    RecallUpdate,
)
from lotlink.services.recalls import (
    close_recall,
    get_recall,
    issue_recall,
    list_recalls,
    recall_filter,
    update_recall,
)
from lotlink.vocabulary import Role

router = APIRouter(prefix="/api/v1/recalls", tags=["recalls"])

RecallerDep = Annotated[
    Actor, Depends(require_role(Role.REGULATOR, Role.SUPPLIER, action="issue or change recalls"))
]


def recall_public(recall: Recall) -> RecallPublic:
    return RecallPublic(
        recall_id=recall.recall_id,
        issuer=to_checksum_address(recall.issuer_address),
        recall_class=recall.recall_class,
        status=recall.status.value,
        voluntary=recall.voluntary,
        reason=recall.reason,
        consumer_instructions=recall.instructions_consumer,
        trade_instructions=recall.instructions_trade,
        reason_hash=recall.reason_hash,
        issued_at=recall.issued_at,
        closed_at=recall.closed_at,
        # Words kept across a reorg that undid the closure describe no closure until one is
        # applied again (see `Recall.closed_reason`).
        closed_reason=None if recall.closed_reason_hash is None else recall.closed_reason,
        closed_reason_hash=recall.closed_reason_hash,
        lots=[
            RecallLotPublic(lot_key=item.lot_key, gtin=item.lot.gtin, lot_code=item.lot.lot_code)
            for item in recall.lots
        ],
        block_number=recall.block_number,
        tx_hash=recall.tx_hash,
    )


@router.post("", status_code=status.HTTP_201_CREATED, summary="Issue a recall on chain")
def issue(
    form: RecallCreate, session: SessionDep, chain: ChainDep, actor: RecallerDep
) -> RecallPublic:
    return recall_public(issue_recall(session, chain, actor, form))


@router.post("/{recall_id}/update", summary="Change an active recall's class or wording")
def update(
    recall_id: int, form: RecallUpdate, session: SessionDep, chain: ChainDep, actor: RecallerDep
) -> RecallPublic:
    return recall_public(update_recall(session, chain, actor, recall_id, form))


@router.post("/{recall_id}/close", summary="Close an active recall")
def close(
    recall_id: int, form: RecallClose, session: SessionDep, chain: ChainDep, actor: RecallerDep
) -> RecallPublic:
    return recall_public(close_recall(session, chain, actor, recall_id, form))


@router.get("", summary="Recalls reaching a GTIN, lot or GLN; active ones by default")
def listing(session: SessionDep, lookup: Annotated[RecallLookup, Query()]) -> list[RecallPublic]:
    filters = recall_filter(**lookup.model_dump(exclude={"include_closed"}))
    found = list_recalls(session, active_only=not lookup.include_closed, filters=filters)
    return [recall_public(r) for r in found]


@router.get("/{recall_id}", summary="One recall")
def read(recall_id: int, session: SessionDep) -> RecallPublic:
    return recall_public(get_recall(session, recall_id))
