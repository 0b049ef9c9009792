"""The app's own behaviour without a running chain: degraded health, problem+json everywhere."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from fixtures.anvil import free_port
from lotlink.config import Settings
from lotlink.db.migrate import upgrade_database
from lotlink.main import create_app


def test_healthz_is_503_and_says_why_when_the_chain_is_down(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, anvil_port=free_port(), rpc_url=None)
    upgrade_database(settings.effective_database_url)
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["chain"]["ok"] is False and "ConnectionError" in body["chain"]["error"]
    assert body["database"]["ok"] is True


def test_healthz_says_the_schema_needs_migrating(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, anvil_port=free_port(), rpc_url=None)
    with TestClient(create_app(settings)) as client:
        body = client.get("/healthz").json()
    assert body["database"]["ok"] is False
    assert "lotlink db upgrade" in body["database"]["error"]


def test_a_remote_rpc_url_never_leaks_its_api_key(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, rpc_url="https://user:secret@rpc.example:8443/v3/KEY?x=1")
    with TestClient(create_app(settings)) as client:
        body = client.get("/healthz").json()
    assert body["chain"]["rpc"] == "https://rpc.example:8443"
    assert "KEY" not in str(body) and "secret" not in str(body)


def test_a_wrong_method_is_a_problem_not_a_page(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, anvil_port=free_port(), rpc_url=None)
    with TestClient(create_app(settings)) as client:
        response = client.post("/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
