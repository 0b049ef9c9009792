"""`POST /api/v1/lots/{lot}/checkpoints`: record a checkpoint of a lot in plain JSON.

201 with the stored event the first time; 200 with the same record when the same event is
submitted again (its digest is the idempotency key), or when a request is retried with the
``Idempotency-Key`` it was first sent with (`lotlink.services.idempotency`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response, status

from lotlink.api.deps import ActorDep, ChainDep, SessionDep
from lotlink.chain.addresses import checksum_address
from lotlink.errors import CheckpointNotFoundError
from lotlink.models import Checkpoint
from lotlink.schemas.checkpoints import CheckpointCreate, CheckpointPublic
from lotlink.services.checkpoints import Accepted, StoredCheckpoint
from lotlink.services.idempotency import parse_idempotency_key
from lotlink.services.lots import find_lot, find_lot_by_code
from lotlink.services.submissions import parse_digest, submit_checkpoint

router = APIRouter(prefix="/api/v1", tags=["checkpoints"])

_RESPONSES: dict[int | str, dict[str, str]] = {
    200: {
        "description": "The same event was accepted before, or this request was, with the same "
        "Idempotency-Key; this is its record."
    },
    400: {"description": "The Idempotency-Key header is malformed."},
    403: {"description": "The actor's role does not fit the checkpoint kind."},
    409: {"description": "The event names a previous event that is no longer the lot's head."},
    422: {
        "description": "Invalid form, or an Idempotency-Key used before for a different request."
    },
}

_IDEMPOTENCY_KEY = (
    "Makes a retry safe (draft-ietf-httpapi-idempotency-key-header): a unique value per "
    "checkpoint, 1 to 255 printable ASCII characters, bare or as a structured-field string "
    '("…"). The same key with the same lot and form is answered 200 with the checkpoint the '
    "first request recorded, even after later events on the lot; the same key with a different "
    "request is 422. Keys are per actor and kept for 24 hours (LOTLINK_IDEMPOTENCY_KEY_HOURS)."
)


async def idempotency_key(
    value: Annotated[
        str | None, Header(alias="Idempotency-Key", description=_IDEMPOTENCY_KEY)
    ] = None,
) -> str | None:
    return None if value is None else parse_idempotency_key(value)


IdempotencyKeyDep = Annotated[str | None, Depends(idempotency_key)]


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
    key: IdempotencyKeyDep,
) -> CheckpointPublic:
    lot = find_lot(session, lot_key, field="lot_key")
    accepted = submit_checkpoint(session, chain, actor, lot, form, idempotency_key=key)
    return answer(accepted, response)


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
    key: IdempotencyKeyDep,
) -> CheckpointPublic:
    lot = find_lot_by_code(session, gtin, lot_code)
    accepted = submit_checkpoint(session, chain, actor, lot, form, idempotency_key=key)
    return answer(accepted, response)


@router.get("/checkpoints/{digest}", summary="A stored checkpoint by its digest")
def read_checkpoint(digest: str, session: SessionDep) -> CheckpointPublic:
    key = "0x" + parse_digest(digest, field="digest").hex()
    checkpoint = session.get(Checkpoint, key)
    if checkpoint is None:
        raise CheckpointNotFoundError(digest=key)
    return checkpoint_public(StoredCheckpoint.of(checkpoint))
