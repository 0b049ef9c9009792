"""`lotlink drill LOT` end to end: the multi-hop scenario served over HTTP, anvil as the chain;
a mock recall of the milk traces, bundles and verifies it; an event edited in the service's
database fails verification and the drill exits non-zero."""

from __future__ import annotations

import re

from sqlalchemy import update

from fixtures.http_service import HttpService
from fixtures.writepath import WritePath
from lotlink.models import Checkpoint
from regulator.scenario import MILK, TIN, Scenario


def _ms(output: str, step: str) -> float:
    match = re.search(rf"^  {step}\s+([\d.]+) ms", output, re.MULTILINE)
    assert match, output
    return float(match[1])


def test_a_drill_traces_bundles_and_verifies_the_lot(
    scenario: Scenario, http_service: HttpService
) -> None:
    ran = http_service.lotlink(
        "drill", f"https://id.gs1.org/01/{MILK}/10/MILK-1", "--rpc", http_service.rpc_url
    )
    assert ran.returncode == 0, ran.stderr
    out = ran.stdout
    assert f"drill of (01){MILK}(10)MILK-1 at {http_service.url}" in out
    # Milk, both bases, both tins; three shipments from the plant to three retailers.
    assert re.search(r"trace .* 5 lots, 3 shipments, 4 places", out), out
    # Every event of those lots and the sugar's, which BASE-1's transformation follows.
    assert re.search(r"evidence .* 12 events, 5 lots, 0 recalls", out), out
    assert re.search(r"verify .* 12/12 events verified, (\d+)/\1 checks passed", out), out
    assert out.rstrip().endswith("verification ok")
    steps = [_ms(out, s) for s in ("trace", "evidence", "verify")]
    assert _ms(out, "total") >= max(steps) > 0


def test_a_drill_fails_when_the_service_serves_an_edited_event(
    write_path: WritePath, scenario: Scenario, http_service: HttpService
) -> None:
    shipped = scenario.digests["tin_a"][1]
    with write_path.session() as session:
        text = session.get(Checkpoint, shipped).epcis_json  # type: ignore[union-attr]
        assert '"quantity":600' in text
        session.execute(
            update(Checkpoint)
            .where(Checkpoint.digest == shipped)
            .values(epcis_json=text.replace('"quantity":600', '"quantity":60'))
        )
        session.commit()
    ran = http_service.lotlink("drill", f"{TIN}/TIN-A", "--rpc", http_service.rpc_url)
    assert ran.returncode == 1, ran.stdout
    assert "0/" in ran.stdout and "hashes" in ran.stdout
    assert "verification FAILED: hashes" in ran.stderr


def test_drill_refusals_are_one_line(http_service: HttpService) -> None:
    for args, expected in [
        ([f"{TIN}/NO-SUCH", "--rpc", http_service.rpc_url], "404"),
        ([f"{TIN}/TIN-A", "--rpc", "http://127.0.0.1:9"], "http://127.0.0.1:9 does not answer"),
        (["0x12", "--rpc", http_service.rpc_url], "not a valid GS1 Digital Link"),
    ]:
        ran = http_service.lotlink("drill", *args)
        assert ran.returncode == 1 and expected in ran.stderr, ran.stderr
        assert len(ran.stderr.strip().splitlines()) == 1
