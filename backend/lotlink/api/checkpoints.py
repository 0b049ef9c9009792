"""`POST /api/v1/lots/{lot}/checkpoints`: record a checkpoint of a lot in plain JSON.

201 with the stored event the first time; 200 with the same record when the same event is
submitted again (its digest is the idempotency key).
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from lotlink.api.deps import ActorDep, ChainDep, SessionDep
from lotlink.chain.addresses import checksum_address
from lotlink.errors import CheckpointNotFoundError
from lotlink.models import Checkpoint
from lotlink.schemas.checkpoints import CheckpointCreate, CheckpointPublic
from lotlink.services.checkpoints import Accepted, StoredCheckpoint
from lotlink.services.lots import find_lot, find_lot_by_code
from lotlink.services.submissions import parse_digest, submit_checkpoint

router = APIRouter(prefix="/api/v1", tags=["checkpoints"])

_RESPONSES: dict[int | str, dict[str, str]] = {
    200: {"description": "The same event was accepted before; this is its record."},
    403: {"description": "The actor's role does not fit the checkpoint kind."},
    409: {"description": "The event names a previous event that is no longer the lot's head."},
}


def checkpoint_public(checkpoint: StoredCheckpoint) -> CheckpointPublic:
    return CheckpointPublic(
        digest=checkpoint.digest,
        event_id=checkpoint.event_id,
        kind=checkpoint.kind,
        status=str(checkpoint.status),
        signer=checksum_address(checkpoint.signer_address),
        signature=checkpoint.signature,
        lot_key=checkpoint.primary_lot_key,
        previous=checkpoint.previous,
        record_time=checkpoint.record_time,
        event=checkpoint.event,
    )


def answer(accepted: Accepted, response: Response) -> CheckpointPublic:
    response.status_code = status.HTTP_201_CREATED if accepted.created else status.HTTP_200_OK
    response.headers["Location"] = f"/api/v1/checkpoints/{accepted.checkpoint.digest}"
    return checkpoint_public(accepted.checkpoint)


@router.post(
    "/lots/{lot_key}/checkpoints",
    status_code=status.HTTP_201_CREATED,
    summary="Record a checkpoint of the lot with this lot key",
    responses=_RESPONSES,
)
def create_checkpoint(
    lot_key: str,
    form: CheckpointCreate,
    actor: ActorDep,
    session: SessionDep,
    chain: ChainDep,
    response: Response,
) -> CheckpointPublic:
    lot = find_lot(session, lot_key, field="lot_key")
    return answer(submit_checkpoint(session, chain, actor, lot, form), response)


@router.post(
    "/lots/{gtin}/{lot_code}/checkpoints",
    status_code=status.HTTP_201_CREATED,
    summary="Record a checkpoint of the lot with this GTIN and lot code",
    responses=_RESPONSES,
)
def create_checkpoint_by_code(
    gtin: str,
    lot_code: str,
    form: CheckpointCreate,
    actor: ActorDep,
    session: SessionDep,
    chain: ChainDep,
    response: Response,
) -> CheckpointPublic:
    lot = find_lot_by_code(session, gtin, lot_code)
    return answer(submit_checkpoint(session, chain, actor, lot, form), response)


@router.get("/checkpoints/{digest}", summary="A stored checkpoint by its digest")
def read_checkpoint(digest: str, session: SessionDep) -> CheckpointPublic:
    key = "0x" + parse_digest(digest, field="digest").hex()
    checkpoint = session.get(Checkpoint, key)
    if checkpoint is None:
        raise CheckpointNotFoundError(digest=key)
    return checkpoint_public(StoredCheckpoint.of(checkpoint))
