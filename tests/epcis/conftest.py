"""Shared inputs for the EPCIS tests: the shared hash vectors and GS1's reference hasher."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
VECTORS = SHARED / "vectors" / "epcis-event-hash"
VECTOR_FILES = sorted(VECTORS.glob("*.jsonld"))


def load_vector(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(document, expected) for one vector file."""
    expected = json.loads(path.with_name(path.stem + ".expected.json").read_text())
    return json.loads(path.read_text()), expected
