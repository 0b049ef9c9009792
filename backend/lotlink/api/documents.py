"""`/api/v1/documents`: upload certificates and reports (multipart), fetch them by SHA-256."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Response, UploadFile, status
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from lotlink.api.deps import ActorDep, SessionDep, SettingsDep
from lotlink.errors import DocumentTooLargeError
from lotlink.models import Document
from lotlink.schemas.documents import DocumentPublic
from lotlink.services.documents import open_document, store_document

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])

_CHUNK = 1024 * 1024


def document_public(document: Document) -> DocumentPublic:
    digest = document.sha256.removeprefix("0x")
    return DocumentPublic(
        sha256=digest,
        media_type=document.media_type,
        size_bytes=document.size_bytes,
        filename=document.original_filename,
        uploaded_at=document.uploaded_at,
        url=f"/api/v1/documents/{digest}",
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a PDF, PNG, JPEG or WebP document",
    responses={
        200: {"description": "The same bytes were uploaded before."},
        413: {"description": "Larger than LOTLINK_MAX_UPLOAD_BYTES."},
        415: {"description": "Not a PDF, PNG, JPEG or WebP file."},
    },
)
async def upload_document(
    file: Annotated[UploadFile, File(description="The document's bytes.")],
    actor: ActorDep,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> DocumentPublic:
    data = bytearray()
    while chunk := await file.read(_CHUNK):
        data += chunk
        if len(data) > settings.max_upload_bytes:  # stop reading as soon as it is too large
            raise DocumentTooLargeError(limit=settings.max_upload_bytes)
    stored = await run_in_threadpool(
        store_document, session, settings, data=bytes(data), filename=file.filename, uploader=actor
    )
    response.status_code = status.HTTP_201_CREATED if stored.created else status.HTTP_200_OK
    response.headers["Location"] = f"/api/v1/documents/{stored.document.sha256[2:]}"
    return document_public(stored.document)


@router.get(
    "/{sha256}",
    summary="A stored document, served with its media type",
    response_class=FileResponse,
)
def read_document(sha256: str, session: SessionDep, settings: SettingsDep) -> FileResponse:
    document, path = open_document(session, settings, sha256)
    return FileResponse(
        path,
        media_type=document.media_type,
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )
