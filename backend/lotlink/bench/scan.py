"""`lotlink bench scan`: scan pages served from the index, beside a bare endpoint of the same app.

A fresh managed anvil and SQLite database get a few suppliers' lots with four checkpoints each,
written through the API, anchored and indexed. The service then runs as it would in production
(`uvicorn --workers 2`, indexer and anchorer off) and `wrk` (Debian's package; a C load
generator, so the client is not the bottleneck) drives it with 64 connections: first
`/.well-known/gs1resolver` (a constant JSON document: the app's floor), then the lots' scan pages
in rotation. Each run prints requests/s and latency percentiles for both.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from lotlink.anchoring.anchorer import Anchorer
from lotlink.bench.harness import free_port, fresh_stack_settings, serve
from lotlink.config import Settings
from lotlink.db.engine import make_engine, make_session_factory
from lotlink.errors import ToolchainMissingError
from lotlink.gs1.digital_link import DigitalLink
from lotlink.gs1.keys import check_digit
from lotlink.indexer.service import make_follower
from lotlink.main import create_app
from lotlink.runtime import prepare
from lotlink.services.actors import add_actor
from lotlink.services.tokens import issue_token
from lotlink.vocabulary import Role


@dataclass(frozen=True, slots=True)
class LoadFigures:
    """One wrk run: throughput and latency percentiles (milliseconds)."""

    path: str
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int


def _gtin(n: int) -> str:
    body = f"0952123{n:06d}"
    return body + str(check_digit(body))


def _gln(n: int) -> str:
    body = f"952123499{n:03d}"
    return body + str(check_digit(body))


def seed(settings: Settings, *, lots: int) -> list[str]:
    """Writes `lots` lots (each with produced, inspected, shipped and received checkpoints)
    through the API, anchors and indexes them; returns their scan paths."""
    app_settings = settings.model_copy(update={"indexer_enabled": False, "anchorer_enabled": False})
    paths: list[str] = []
    with TestClient(create_app(app_settings)) as client:
        chain = client.app.state.chain  # type: ignore[attr-defined]
        sessions = client.app.state.sessions  # type: ignore[attr-defined]
        headers: dict[Role, dict[str, str]] = {}
        for n, (role, name) in enumerate(
            [
                (Role.SUPPLIER, "Alpine Nutrition Plant"),
                (Role.INSPECTOR, "Independent Food Lab"),
                (Role.CARRIER, "Swift Cold Chain"),
            ],
            start=1,
        ):
            with sessions() as session:
                actor = add_actor(session, chain, role=role, gln=_gln(n), name=name).actor
                token = issue_token(session, actor, label="bench")
            headers[role] = {"Authorization": f"Bearer {token.secret}"}
        steps = [
            (Role.SUPPLIER, {"kind": "produced", "time": "2026-03-01T06:00:00.000+01:00"}),
            (Role.INSPECTOR, {"kind": "inspected", "result": "conformant",
                              "time": "2026-03-02T10:15:00.000+01:00"}),
            (Role.CARRIER, {"kind": "shipped", "time": "2026-03-03T07:30:00.000+01:00",
                            "destinations": [{"gln": _gln(9), "type": "location"}]}),
            (Role.CARRIER, {"kind": "received", "time": "2026-03-04T16:45:00.000-05:00"}),
        ]  # fmt: skip
        for i in range(lots):
            gtin, code = _gtin(700 + i % 5), f"BENCH-{i:04d}"
            body = {"gtin": gtin, "lot_code": code, "product_name": "Infant formula 800 g",
                    "quantity": 1200, "unit": "H87"}  # fmt: skip
            created = client.post("/api/v1/lots", json=body, headers=headers[Role.SUPPLIER])
            created.raise_for_status()
            key = created.json()["lot_key"]
            for role, form in steps:
                response = client.post(
                    f"/api/v1/lots/{key}/checkpoints", json=form, headers=headers[role]
                )
                if response.status_code != 201:
                    raise RuntimeError(f"seeding failed: {response.text}")
            paths.append(DigitalLink(gtin=gtin, lot=code).path)
    engine = make_engine(settings.effective_database_url)
    try:
        Anchorer.from_settings(app_settings, engine=engine).drain()
        deployment = client.app.state.deployment  # type: ignore[attr-defined]
        follower = make_follower(app_settings, engine, deployment)
        try:
            follower.catch_up()
        finally:
            follower.close()
        make_session_factory(engine)
    finally:
        engine.dispose()
    return paths


_LUA = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1], {["Accept"] = "text/html"})
end
"""


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(
    base: str, paths: list[str], *, connections: int, seconds: int, threads: int = 1
) -> LoadFigures:
    """`wrk` against `base`, rotating through `paths`; its figures parsed."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise ToolchainMissingError(tool="wrk", hint="install Debian's wrk package")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_LUA % ", ".join(f'"{p}"' for p in paths))
    try:
        result = subprocess.run(
            [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
             "--latency", "-s", script.name, base],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        Path(script.name).unlink(missing_ok=True)
    out = result.stdout
    percentile = dict(re.findall(r"^\s+(\d+(?:\.\d+)?)%\s+([\d.]+(?:us|ms|s))\s*$", out, re.M))
    if "99" not in percentile:
        raise RuntimeError(f"wrk printed no latency distribution:\n{out}")
    errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|timeout) (\d+)", out))
    if socket_errors := re.search(r"Socket errors: (.*)", out):
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors[1]))
    return LoadFigures(
        path=paths[0] if len(paths) == 1 else f"{len(paths)} scan pages",
        requests_per_s=float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),  # type: ignore[index]
        p50_ms=_ms(percentile["50"]),
        p90_ms=_ms(percentile["90"]),
        p99_ms=_ms(percentile["99"]),
        errors=errors,
    )


def measure_scan(
    *, lots: int = 50, connections: int = 64, seconds: int = 10, workers: int = 2
) -> dict[str, LoadFigures]:
    """Seeds a fresh chain and database, serves them, and loads a bare endpoint and the scan
    pages in turn; returns both runs' figures."""
    with fresh_stack_settings("scan") as settings, prepare(settings):
        paths = seed(settings, lots=lots)
        with serve(settings, port=free_port(), workers=workers) as service:
            base = service.base

            # The figures are for the steady state: every page rendered in every worker first.
            # One client's keep-alive connection reaches one worker only, so the warm-up is
            # wrk itself, untimed, with as many connections as the run.
            def warm(pages: list[str]) -> None:
                with httpx.Client(base_url=base, timeout=30) as client:
                    for path in pages:
                        client.get(path).raise_for_status()
                run_wrk(base, pages, connections=connections, seconds=3)

            warm([*paths, "/.well-known/gs1resolver"])
            bare = run_wrk(
                base, ["/.well-known/gs1resolver"], connections=connections, seconds=seconds
            )
            scan = run_wrk(base, paths, connections=connections, seconds=seconds)
            # Serial pages: every view is also a scan, buffered and written in batches.
            serials = [f"{path}/21/S{n}" for path in paths for n in range(4)]
            warm(serials)
            serial = run_wrk(base, serials, connections=connections, seconds=seconds)
    return {"bare": bare, "scan": scan, "serial": serial}
