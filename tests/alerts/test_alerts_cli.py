"""`lotlink alerts` and `lotlink webhook` as a supplier and a regulator run them against a
running service: list, acknowledge, escalate to a recall on chain, close; endpoints added with
their secret shown once, listed and removed; a refusal is one line."""

from __future__ import annotations

import json

from alerts.test_alerts_api import complain, shipped_lot
from fixtures.http_service import HttpService, http_service  # noqa: F401
from fixtures.writepath import WritePath
from lotlink.vocabulary import Role


def test_alerts_and_webhooks_from_the_command_line(
    write_path: WritePath,
    http_service: HttpService,  # noqa: F811
) -> None:
    wp, svc = write_path, http_service
    plant = wp.actor(Role.SUPPLIER)
    carrier = wp.actor(Role.CARRIER)
    regulator = wp.actor(Role.REGULATOR)
    lot = shipped_lot(wp, plant, carrier, "F-CLI")
    complain(wp, lot, 3)

    listed = svc.lotlink("alerts", "list", "--lot", f"{lot['gtin']}/F-CLI", token=plant.token)
    assert listed.returncode == 0, listed.stderr
    assert "2 alert(s)" in listed.stdout and "complaints/poisson_rate on" in listed.stdout
    alerts = json.loads(
        svc.lotlink("alerts", "list", "--state", "open", "--json", token=regulator.token).stdout
    )
    rate = next(a for a in alerts if a["rule"] == "poisson_rate")
    acked = svc.lotlink("alerts", "ack", str(rate["id"]), token=plant.token)
    assert acked.returncode == 0 and ", acknowledged, p = " in acked.stdout

    escalated = svc.lotlink(
        "alerts", "escalate", str(rate["id"]), "--class", "2", "--reason", "Mould in lot F-CLI",
        "--json", token=regulator.token,
    )  # fmt: skip
    assert escalated.returncode == 0, escalated.stderr
    recall_id = json.loads(escalated.stdout)["recall_id"]
    assert wp.chain.contract.call("recallOf", recall_id)[0].lower() == regulator.address.lower()
    again = svc.lotlink(
        "alerts", "escalate", str(rate["id"]), "--class", "2", "--reason", "x",
        token=regulator.token,
    )  # fmt: skip
    assert again.returncode == 1 and again.stderr.count("\n") == 1
    assert "409 alert" in again.stderr and "escalated" in again.stderr
    closed = svc.lotlink(
        "alerts", "close", str(rate["id"]), "--note", "recalled", token=plant.token
    )
    assert closed.returncode == 0 and ", closed" in closed.stdout

    added = svc.lotlink("webhook", "add", "https://hooks.example.org/lotlink", token=plant.token)
    assert added.returncode == 0, added.stderr
    assert "secret: whsec_" in added.stdout
    endpoint_id = added.stdout.split("webhook ")[1].split(":")[0]
    assert "(active)" in svc.lotlink("webhook", "list", token=plant.token).stdout
    removed = svc.lotlink("webhook", "remove", endpoint_id, token=plant.token)
    assert removed.returncode == 0 and "removed" in removed.stdout
    assert "(removed)" in svc.lotlink("webhook", "list", token=plant.token).stdout
    bad = svc.lotlink("webhook", "add", "ftp://x", token=plant.token)
    assert bad.returncode == 1 and "url: must be an absolute http" in bad.stderr
    assert svc.lotlink("alerts", "list").returncode == 1  # no token: one line, not a traceback
