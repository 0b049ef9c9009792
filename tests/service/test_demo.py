"""`scripts/serve --demo`: the story is recorded through the API, anchored, and told once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from fixtures.anvil import free_port

FORMULA = "09521000000025"


def _serve_demo(
    var_dir: Path, http_port: int, anvil_port: int
) -> tuple[subprocess.Popen[str], str]:
    env = {
        **os.environ,
        "LOTLINK_VAR_DIR": str(var_dir),
        "LOTLINK_PORT": str(http_port),
        "LOTLINK_ANVIL_PORT": str(anvil_port),
        "LOTLINK_PUBLIC_BASE_URL": f"http://127.0.0.1:{http_port}",
        "LOTLINK_DATABASE_URL": "",
        "LOTLINK_RPC_URL": "",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "lotlink.cli", "serve", "--demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("demo API tokens"):
            return process, "".join(lines)
        assert "the demo story stopped" not in line, "".join(lines)
    process.kill()
    raise AssertionError("the demo story was not told:\n" + "".join(lines))


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)


def test_the_demo_story_is_recorded_anchored_and_told_once(tmp_path: Path) -> None:
    http_port, anvil_port = free_port(), free_port()
    base = f"http://127.0.0.1:{http_port}"
    process, told = _serve_demo(tmp_path, http_port, anvil_port)
    try:
        assert f"{base}/01/{FORMULA}/10/IF-2611-B" in told
        # A copied code is caught: its page says so, and its URL is printed.
        copied = f"{base}/01/{FORMULA}/10/IF-2611-A/21/A-000417"
        assert copied in told
        assert "This code may be a copy" in httpx.get(copied).text
        for lot in ("IF-2611-A", "IF-2611-B", "FARM-A-1103"):
            assert (tmp_path / "demo" / f"qr-{lot}.png").read_bytes().startswith(b"\x89PNG")
        recalls = httpx.get(f"{base}/api/v1/recalls").json()
        assert [(r["recall_class"], [lot["lot_code"] for lot in r["lots"]]) for r in recalls] == [
            (1, ["IF-2611-B"])
        ]
        # The recall came from consumers' complaints: an alert escalated through the API.
        record = json.loads((tmp_path / "demo" / "demo.json").read_text())
        regulator = {"Authorization": f"Bearer {record['tokens']['regulator']}"}
        alerts = httpx.get(f"{base}/api/v1/alerts", headers=regulator).json()
        escalated = [a for a in alerts if a["state"] == "escalated"]
        assert [(a["rule"], a["lot_code"], a["recall_id"]) for a in escalated] == [
            ("poisson_rate", "IF-2611-B", recalls[0]["recall_id"])
        ]
        assert escalated[0]["p_value"] < 0.001 and escalated[0]["statistic"]["complaints"] == 4
        assert f"raised alert {escalated[0]['id']}, escalated to recall" in told
        # The recall's page and the public recall list are printed, and show the recall.
        recall_page = f"{base}/recalls/{recalls[0]['recall_id']}"
        assert f"{recall_page}\n" in told and f"{base}/recalls\n" in told
        assert 'id="recall-status">Active' in httpx.get(recall_page).text
        assert f'id="recall-{recalls[0]["recall_id"]}"' in httpx.get(f"{base}/recalls").text
        formula = httpx.get(f"{base}/api/v1/lots/{FORMULA}/IF-2611-A").json()
        assert sorted(p["lot_code"] for p in formula["parents"]) == ["FARM-A-1103", "FARM-B-1103"]
        certificates = httpx.get(
            f"{base}/api/v1/certificates", params={"subject": formula["lot_key"]}
        ).json()
        assert [c["kind"] for c in certificates] == ["certificate_of_analysis"]
        # Every event of the story ends anchored on the chain (batches close within a second).
        head = formula["head_digest"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            receipt = httpx.get(f"{base}/api/v1/checkpoints/{head}/receipt")
            if receipt.status_code == 200 and receipt.json()["status"] == "anchored":
                break
            time.sleep(0.5)
        assert receipt.json()["status"] == "anchored", receipt.text
    finally:
        _stop(process)
    # A second start tells the same story without recording it again.
    process, told_again = _serve_demo(tmp_path, http_port, anvil_port)
    try:
        assert f"{base}/01/{FORMULA}/10/IF-2611-B" in told_again
        assert f"{base}/recalls/{recalls[0]['recall_id']}\n" in told_again
        assert len(httpx.get(f"{base}/api/v1/recalls").json()) == 1
    finally:
        _stop(process)
