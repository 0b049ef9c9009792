"""`lotlink recall issue|update|close|list|show` as a regulator and a supplier run them, talking
HTTP to a running service; every refusal is one line."""

from __future__ import annotations

import json

from fixtures.http_service import HttpService
from fixtures.writepath import WritePath
from lotlink.gs1.keys import lot_key
from regulator.scenario import MILK, TIN, Scenario


def test_a_regulator_issues_updates_looks_up_and_closes_a_recall(
    write_path: WritePath, scenario: Scenario, http_service: HttpService
) -> None:
    s, svc = scenario, http_service
    regulator = s.parties["regulator"].token
    issued = svc.lotlink(
        "recall", "issue", f"{MILK}/MILK-1", "--class", "2", "--reason", "Listeria",
        "--consumer", "Do not drink.", "--json", token=regulator,
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    recall = json.loads(issued.stdout)
    recall_id = recall["recall_id"]
    assert recall["lots"] == [{"lot_key": s.key("milk"), "gtin": MILK, "lot_code": "MILK-1"}]
    assert recall["recall_class"] == 2 and recall["consumer_instructions"] == "Do not drink."
    on_chain = write_path.world.lotlink.call("recallOf", recall_id)
    assert on_chain[0] == s.parties["regulator"].address

    updated = svc.lotlink(
        "recall", "update", str(recall_id), "--class", "1", "--reason", "Listeria confirmed",
        token=regulator,
    )  # fmt: skip
    assert updated.returncode == 0, updated.stderr
    assert f"recall {recall_id}: class I, active" in updated.stdout
    assert "Listeria confirmed" in updated.stdout

    # The tins were made from the milk: a lookup by the tin's GTIN-13, or by one tin lot's
    # Digital Link, finds the milk's recall; without inherited recalls it does not.
    listed = svc.lotlink("recall", "list", "--gtin", TIN[1:])
    assert listed.returncode == 0, listed.stderr
    assert f"recall {recall_id}: class I" in listed.stdout and "1 recall(s)" in listed.stdout
    link = f"https://id.gs1.org/01/{TIN}/10/TIN-B"
    assert f"recall {recall_id}:" in svc.lotlink("recall", "list", "--lot", link).stdout
    assert "0 recall(s)" in svc.lotlink("recall", "list", "--lot", link, "--no-inherited").stdout
    assert "0 recall(s)" in svc.lotlink("recall", "list", "--gln", s.glns["mill"]).stdout

    closed = svc.lotlink(
        "recall", "close", str(recall_id), "--reason", "destroyed", token=regulator
    )
    assert closed.returncode == 0, closed.stderr and "closed" in closed.stdout
    assert "0 recall(s)" in svc.lotlink("recall", "list", "--gtin", TIN).stdout
    assert "1 recall(s)" in svc.lotlink("recall", "list", "--gtin", TIN, "--all").stdout
    # As a process of its own, the service named by LOTLINK_PUBLIC_BASE_URL.
    shown = svc.process("recall", "show", str(recall_id), "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "closed"


def test_a_supplier_recalls_its_own_lot_by_key_and_refusals_are_one_line(
    scenario: Scenario, http_service: HttpService
) -> None:
    s, svc = scenario, http_service
    plant = s.parties["plant"].token
    own = "0x" + lot_key(TIN, "TIN-A").hex()
    issued = svc.lotlink(
        "recall", "issue", own, "--class", "3", "--reason", "dented tins", token=plant
    )
    assert issued.returncode == 0, issued.stderr
    assert "class III, voluntary active" in issued.stdout and f"{TIN}/TIN-A" in issued.stdout

    for args, token, expected in [
        (["issue", f"{MILK}/MILK-1", "--class", "1", "--reason", "x"], plant, "403"),
        (["issue", f"{MILK}/NO-SUCH", "--class", "1", "--reason", "x"], plant, "no lot"),
        (["issue", f"{MILK}/MILK-1", "--class", "1", "--reason", "x"], None, "401"),
        (
            ["issue", f"https://id.gs1.org/01/{MILK}", "--class", "1", "--reason", "x"],
            plant,
            "not one of its lots",
        ),
        (
            [
                "issue",
                f"{MILK[:-1]}{(int(MILK[-1]) + 1) % 10}/MILK-1",
                "--class",
                "1",
                "--reason",
                "x",
            ],
            plant,
            "check digit",
        ),
        (["close", "999", "--reason", "x"], plant, "no recall 999"),
        (["show", "999"], None, "404 no recall 999"),
        (["list", "--gtin", "123"], None, "gtin"),
        (["list", "--from", "someday"], None, "query.issued_from"),
    ]:
        result = svc.lotlink("recall", *args, token=token)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert expected in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr

    down = HttpService("http://127.0.0.1:9", svc.rpc_url).lotlink("recall", "show", "1")
    assert down.returncode == 1 and "cannot reach http://127.0.0.1:9" in down.stderr
