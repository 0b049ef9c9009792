"""Receipts and manifests: what anyone needs to check an event against the chain without us.

``GET /api/v1/checkpoints/{digest}/receipt``
    200 with the self-contained receipt once the event is anchored; 202 with
    ``status: "pending"`` (and ``Retry-After``) while it waits in the outbox or in a batch on its
    way to the chain; 404 problem for a digest never accepted.
``GET /api/v1/batches/{root}/manifest``
    The exact bytes whose keccak256 the batch anchored as ``manifestHash`` (also sent as the
    ``X-Manifest-Hash`` header); 404 problem for an unknown root.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session, selectinload

from lotlink.anchoring.receipts import receipt_document
from lotlink.api.problems import problem
from lotlink.models import AnchorReceipt, Batch, Checkpoint, CheckpointStatus

router = APIRouter(prefix="/api/v1", tags=["receipts"])

_BYTES32 = r"^0x[0-9a-fA-F]{64}$"
Bytes32 = Annotated[str, Path(pattern=_BYTES32, description="0x-prefixed 32-byte hex")]

#: How long a client should wait before asking again for a pending receipt.
RETRY_AFTER_SECONDS = 1


def _session(request: Request) -> Session:
    session: Session = request.app.state.sessions()
    return session


@router.get(
    "/checkpoints/{digest}/receipt",
    responses={202: {"description": "Accepted, not anchored yet"}, 404: {"description": "Unknown"}},
)
def get_receipt(digest: Bytes32, request: Request) -> Response:
    """The event's receipt: event, digest, signature, leaf, Merkle path, root, transaction,
    block, log, chain id, contract address and manifest hash."""
    digest = digest.lower()
    with _session(request) as session:
        checkpoint = session.get(
            Checkpoint,
            digest,
            options=[selectinload(Checkpoint.receipt).selectinload(AnchorReceipt.batch)],
        )
        if checkpoint is None:
            return problem(404, "Not Found", f"no checkpoint has digest {digest}")
        body = receipt_document(checkpoint, **_where(request))
    if checkpoint.status == CheckpointStatus.ANCHORED:
        return JSONResponse(body)
    return JSONResponse(body, status_code=202, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


@router.get("/batches/{root}/manifest", responses={404: {"description": "Unknown root"}})
def get_manifest(root: Bytes32, request: Request) -> Response:
    """The batch manifest, byte for byte as anchored."""
    root = root.lower()
    with _session(request) as session:
        batch = session.get(Batch, root)
        if batch is None or batch.manifest is None:
            return problem(404, "Not Found", f"no batch manifest is stored for root {root}")
        content = batch.manifest.encode("utf-8")
        manifest_hash = batch.manifest_hash
    return Response(
        content,
        media_type="application/json",
        headers={
            "X-Manifest-Hash": manifest_hash,
            "ETag": f'"{manifest_hash}"',
            "Cache-Control": "public, max-age=31536000, immutable",
        },
    )


def _where(request: Request) -> dict[str, Any]:
    deployment = request.app.state.deployment
    if deployment is None:
        return {"chain_id": 0, "contract_address": "0x" + "00" * 20}
    return {"chain_id": deployment.chain_id, "contract_address": deployment.address()}
