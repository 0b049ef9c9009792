"""`POST /epcis/capture`: EPCIS 2.0 JSON-LD capture documents (the EPCIS REST binding's door).

The document is validated against GS1's EPCIS 2.0 JSON Schema and Lotlink's rules; its events
are stored all or none (GS1-Capture-Error-Behaviour: rollback). Unlike the asynchronous 202 of
the standard, the answer is synchronous: 201 with every event's record (200 when all of them
were captured before). Self-custody actors send one EIP-712 `Checkpoint` signature per event,
in document order, in the ``Lotlink-Signature`` header (comma-separated 0x-hex).
"""

from __future__ import annotations

import asyncio
import json
from functools import partial
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Header, Request, Response, status

from lotlink.api.checkpoints import checkpoint_public
from lotlink.api.deps import ActorDep, ChainDep, SessionDep, SettingsDep
from lotlink.errors import DocumentTooLargeError, EpcisValidationError
from lotlink.schemas.checkpoints import CaptureResult
from lotlink.services.capture_writer import CaptureWriter
from lotlink.services.submissions import parse_signature, prepare_capture

router = APIRouter(prefix="/epcis", tags=["epcis"])

#: Captures a process prepares at once. Preparing is CPU-bound (hashing, signature recovery),
#: so more threads of one process only contend for its interpreter lock, and the capture
#: writer's thread, holding SQLite's writer, would wait for that lock behind them. Further
#: captures wait their turn without a thread; other workers take their own.
CAPTURES_AT_ONCE = 2


def _capture_limiter(request: Request) -> anyio.CapacityLimiter:
    limiter: anyio.CapacityLimiter | None = getattr(request.app.state, "capture_limiter", None)
    if limiter is None:  # made in the event loop, which anyio needs
        limiter = request.app.state.capture_limiter = anyio.CapacityLimiter(CAPTURES_AT_ONCE)
    return limiter


async def _json_body(request: Request, limit: int) -> Any:
    body = await request.body()
    if len(body) > limit:
        raise DocumentTooLargeError(limit=limit)
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise EpcisValidationError(
            path="$", reason=f"not JSON: {error}", errors=[("$", str(error))]
        ) from None


@router.post(
    "/capture",
    status_code=status.HTTP_201_CREATED,
    summary="Capture an EPCIS 2.0 document",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/ld+json": {"schema": {"type": "object"}}},
        }
    },
)
async def capture(
    request: Request,
    actor: ActorDep,
    session: SessionDep,
    chain: ChainDep,
    settings: SettingsDep,
    response: Response,
    lotlink_signature: Annotated[str | None, Header()] = None,
) -> CaptureResult:
    document = await _json_body(request, settings.max_upload_bytes)
    signatures = (
        None
        if lotlink_signature is None
        else [
            parse_signature(part, field=f"Lotlink-Signature[{i}]") or b""
            for i, part in enumerate(lotlink_signature.split(","))
        ]
    )
    prepared = await anyio.to_thread.run_sync(
        partial(prepare_capture, session, chain, actor, document, signatures=signatures),
        limiter=_capture_limiter(request),
    )
    # Stored with the other captures waiting in this process, in one transaction; waited for
    # without a thread.
    writer: CaptureWriter = request.app.state.capture_writer
    accepted = await asyncio.wrap_future(writer.submit(prepared))
    created = sum(1 for a in accepted if a.created)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return CaptureResult(
        created=created,
        existing=len(accepted) - created,
        checkpoints=[checkpoint_public(a.checkpoint) for a in accepted],
    )
