"""What an app does at startup: ready for its first request, and frozen out of the garbage
collector only when it is a served process (tests build apps by the hundred)."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from lotlink.config import Settings
from lotlink.main import create_app


def test_only_a_served_app_freezes_what_its_startup_built(write_settings: Settings) -> None:
    gc.unfreeze()
    try:
        with TestClient(create_app(write_settings)) as client:
            assert client.get("/healthz").status_code == 200
            assert gc.get_freeze_count() == 0
        with TestClient(create_app(write_settings, served=True)) as client:
            assert client.get("/healthz").status_code == 200
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # give the rest of the run its garbage back
