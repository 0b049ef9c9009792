"""Evidence bundles: built over the API for a recall and for a lot, verified by `lotlink
verify` against the chain alone; every kind of tampering is caught and named."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from hexbytes import HexBytes
from typer.testing import CliRunner

from fixtures.writepath import WritePath
from lotlink.chain.typed_data import Domain, sign_typed
from lotlink.cli import app
from lotlink.verify_bundle import verify_bundle
from regulator.scenario import Scenario

WORDING = {
    "recall_class": 1,
    "reason": "Cronobacter sakazakii in the milk",
    "consumer_instructions": "Do not use.",
    "trade_instructions": "Withdraw from sale.",
}


def _verify_cli(bundle: dict[str, Any], path: Path, rpc: str) -> tuple[int, str]:
    path.write_text(json.dumps(bundle))
    result = CliRunner().invoke(app, ["verify", str(path), "--rpc", rpc])
    return result.exit_code, result.output


def _event(bundle: dict[str, Any], digest: str) -> dict[str, Any]:
    found: dict[str, Any] = next(e for e in bundle["events"] if e["digest"] == digest)
    return found


def _lot(bundle: dict[str, Any], key: str) -> dict[str, Any]:
    found: dict[str, Any] = next(lot for lot in bundle["lots"] if lot["lotKey"] == key)
    return found


def _tampered(bundle: dict[str, Any], s: Scenario, how: str) -> dict[str, Any]:
    bad = copy.deepcopy(bundle)
    shipped = s.digests["tin_a"][1]  # TIN-A's first shipment, mid-chain
    if how == "event field":
        inner = _event(bad, shipped)["event"]["epcisBody"]["eventList"][0]
        inner["quantityList"][0]["quantity"] = 60
    elif how == "proof element":
        proof = _event(bad, shipped)["proof"]
        proof[0] = "0x" + bytes(b ^ 1 for b in HexBytes(proof[0])).hex()
    elif how == "signature":
        event = _event(bad, shipped)
        message = {
            "eventHash": HexBytes(event["digest"]),
            "lotKey": HexBytes(event["lotKey"]),
            "kind": event["kindCode"],
        }
        domain = Domain(chain_id=bad["chainId"], verifying_contract=bad["contract"])
        event["signature"] = (
            "0x" + sign_typed(Account.create(), "Checkpoint", message, domain).hex()
        )
    elif how == "lineage edge":
        parents = _lot(bad, s.key("tin_b"))["parents"]
        parents[0]["quantity"] += 1000
    elif how == "dropped event":
        bad["events"] = [e for e in bad["events"] if e["digest"] != shipped]
        lot = _lot(bad, s.key("tin_a"))
        lot["events"] = [d for d in lot["events"] if d != shipped]
    return bad


def test_a_recall_bundle_verifies_and_every_tampering_is_caught(
    write_path: WritePath, scenario: Scenario, tmp_path: Path
) -> None:
    s = scenario
    regulator = s.parties["regulator"]
    issued = write_path.client.post(
        "/api/v1/recalls",
        json={**WORDING, "lots": [{"lot_key": s.key("milk")}]},
        headers=regulator.headers,
    )
    assert issued.status_code == 201, issued.text
    recall_id = issued.json()["recall_id"]
    response = write_path.client.get(f"/api/v1/recalls/{recall_id}/evidence")
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    bundle = response.json()
    assert {lot["lotKey"] for lot in bundle["lots"]} == {
        s.key(n) for n in ("milk", "base1", "base2", "tin_a", "tin_b")
    }
    # Every event of those lots, and the sugar lot's event that BASE-1's transformation follows.
    assert {e["digest"] for e in bundle["events"]} == {d for ds in s.digests.values() for d in ds}
    assert _lot(bundle, s.key("tin_a"))["events"] == s.digests["tin_a"]
    assert [r["recallId"] for r in bundle["recalls"]] == [recall_id]
    assert bundle["recalls"][0]["wording"]["reason"] == WORDING["reason"]

    rpc = write_path.world.rpc_url
    code, output = _verify_cli(bundle, tmp_path / "honest.json", rpc)
    assert code == 0, output
    assert "FAIL" not in output and "total" in output
    for group in ("hashes", "signatures", "roles", "anchors", "event chains", "lineage"):
        assert f"{group}" in output

    for how, group in [
        ("event field", "hashes"),
        ("proof element", "anchors"),
        ("signature", "signatures"),
        ("lineage edge", "lineage"),
        ("dropped event", "event chains"),
    ]:
        bad = _tampered(bundle, s, how)
        report = verify_bundle(bad, write_path.world.w3)
        assert report.failed_groups == [group], (how, report.lines())
        code, output = _verify_cli(bad, tmp_path / f"{group}.json", rpc)
        assert code == 1, (how, output)
        failing = [line.split()[0:2] for line in output.splitlines() if " FAIL " in f" {line} "]
        assert group.split()[0] in {words[0] for words in failing}, (how, output)


@pytest.mark.parametrize("lot", ["tin_b"])
def test_a_lot_bundle_holds_its_upstream_and_verifies(
    write_path: WritePath, scenario: Scenario, lot: str
) -> None:
    response = write_path.client.get(f"/api/v1/lots/{scenario.key(lot)}/evidence")
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert {x["lotKey"] for x in bundle["lots"]} == {
        scenario.key(n) for n in ("tin_b", "base1", "base2", "milk", "sugar")
    }
    report = verify_bundle(bundle, write_path.world.w3)
    assert report.ok, report.lines()
    assert write_path.client.get(f"/api/v1/lots/0x{'ab' * 32}/evidence").status_code == 404
    assert write_path.client.get("/api/v1/recalls/999/evidence").status_code == 404
