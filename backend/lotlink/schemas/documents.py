"""Documents: what an upload returns."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class DocumentPublic(BaseModel):
    sha256: str
    media_type: str
    size_bytes: int
    filename: str | None
    uploaded_at: datetime
    url: str
