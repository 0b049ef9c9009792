"""Documents (certificates, reports, photos): stored once per content, under their SHA-256.

Blobs live at ``blobs_dir/<first two hex>/<sha256 hex>``, written to a temporary file and renamed,
so a reader never sees half a file; the row is written after the blob, so every row has its
bytes (a blob without a row, left by a crash, is harmless and reused by the next upload).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lotlink.config import Settings
from lotlink.db.bulk import existing
from lotlink.errors import (
    DocumentNotFoundError,
    DocumentTooLargeError,
    InvalidInputError,
    UnknownDocumentError,
)
from lotlink.errors import UnsupportedDocumentTypeError as UnsupportedTypeError
from lotlink.models import Actor, Document

ACCEPTED = ("application/pdf", "image/png", "image/jpeg", "image/webp")
_SHA256 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


def sniff_media_type(head: bytes) -> str | None:
    """The media type the first bytes of a file announce (magic numbers), if Lotlink takes it."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def normalize_sha256(value: str, *, field: str) -> str:
    """A SHA-256 as 64 lowercase hex digits (a 0x prefix is accepted)."""
    if not isinstance(value, str) or not _SHA256.match(value):
        raise InvalidInputError(field=field, reason=f"{value!r} is not a SHA-256 (64 hex digits)")
    return value.lower().removeprefix("0x")


def blob_path(settings: Settings, sha256_hex: str) -> Path:
    return settings.blobs_dir / sha256_hex[:2] / sha256_hex


@dataclass(frozen=True, slots=True)
class StoredDocument:
    document: Document
    created: bool


def store_document(
    session: Session,
    settings: Settings,
    *,
    data: bytes,
    filename: str | None,
    uploader: Actor | None,
) -> StoredDocument:
    """Stores `data` (once per content) and returns its row; `created` is False for a repeat."""
    if len(data) > settings.max_upload_bytes:
        raise DocumentTooLargeError(limit=settings.max_upload_bytes)
    media_type = sniff_media_type(data[:16])
    if media_type is None:
        raise UnsupportedTypeError(accepted=["PDF", "PNG", "JPEG", "WebP"])
    digest = hashlib.sha256(data).hexdigest()
    key = "0x" + digest
    existing = session.get(Document, key)
    if existing is not None:
        return StoredDocument(existing, created=False)
    _write_blob(blob_path(settings, digest), data)
    document = Document(
        sha256=key,
        media_type=media_type,
        size_bytes=len(data),
        original_filename=(filename or None) and Path(filename).name[:255],
        uploaded_by=None if uploader is None else uploader.address,
    )
    session.add(document)
    try:
        session.commit()
    except IntegrityError:  # the same bytes uploaded concurrently: theirs is ours
        session.rollback()
        return StoredDocument(session.get(Document, key) or document, created=False)
    return StoredDocument(document, created=True)


def open_document(session: Session, settings: Settings, sha256: str) -> tuple[Document, Path]:
    """The row and blob path of a stored document; DocumentNotFoundError otherwise."""
    digest = normalize_sha256(sha256, field="sha256")
    document = session.get(Document, "0x" + digest)
    path = blob_path(settings, digest)
    if document is None or not path.is_file():
        raise DocumentNotFoundError(sha256=digest)
    return document, path


def require_documents(session: Session, hashes: list[str], *, field: str) -> list[str]:
    """The cited hashes, normalised; UnknownDocumentError naming the first one never uploaded."""
    out = [normalize_sha256(value, field=f"{field}[{i}]") for i, value in enumerate(hashes)]
    require_uploaded(session, [(field, out)])
    return out


def require_uploaded(session: Session, cited: Sequence[tuple[str, Sequence[str]]]) -> None:
    """UnknownDocumentError naming the first document never uploaded, as ``field[i]``, of the
    (field, normalised SHA-256 hexes) pairs `cited`: all looked up at once."""
    keys = ["0x" + sha for _, hashes in cited for sha in hashes]
    uploaded = existing(session.connection(), Document.sha256, keys)
    for field, hashes in cited:
        for i, sha in enumerate(hashes):
            if "0x" + sha not in uploaded:
                raise UnknownDocumentError(sha256=sha, field=f"{field}[{i}]")


def _write_blob(path: Path, data: bytes) -> None:
    if path.is_file() and path.stat().st_size == len(data):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
