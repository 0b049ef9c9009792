"""Runs the browser verifier's ES modules (backend/lotlink/web/static/verify/) in real node."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STATIC = HERE.parents[1] / "backend" / "lotlink" / "web" / "static" / "verify"


def run_node(script: str, payload: Any) -> Any:
    """Run tests/verifyjs/<script> on the verifier's directory with `payload` as JSON on stdin."""
    node = shutil.which("node")
    assert node is not None, "node is needed to test the browser verifier"
    done = subprocess.run(
        [node, str(HERE / script), str(STATIC)],
        input=json.dumps(payload, ensure_ascii=False),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
