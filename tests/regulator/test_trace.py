"""Trace over the API: every lot upstream and downstream, shares by mass balance (checked on a
hand-computed example), shipments with places and units received versus shipped."""

from __future__ import annotations

from typing import Any

import pytest

from fixtures.writepath import WritePath
from regulator.scenario import Scenario


def _trace(write_path: WritePath, key: str, direction: str) -> dict[str, Any]:
    response = write_path.client.get(f"/api/v1/lots/{key}/trace", params={"direction": direction})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_downstream_and_upstream_with_shares_and_shipments(
    write_path: WritePath, scenario: Scenario
) -> None:
    s = scenario
    down = _trace(write_path, s.key("milk"), "downstream")
    by_key = {lot["lot_key"]: lot for lot in down["lots"]}
    expected = {"milk": 1.0, "base1": 0.6, "base2": 0.4, "tin_a": 0.3, "tin_b": 0.55}
    assert set(by_key) == {s.key(name) for name in expected}  # not sugar: it is upstream only
    for name, share in expected.items():
        assert by_key[s.key(name)]["share"] == pytest.approx(share), name
    assert by_key[s.key("tin_b")]["traced_quantity"] == 550  # litres of the milk in TIN-B
    assert by_key[s.key("tin_b")]["depth"] == 2 and by_key[s.key("base1")]["depth"] == 1
    assert by_key[s.key("milk")]["direction"] == "traced"
    assert len(down["edges"]) == 5

    shipments = {
        (x["lot_key"], x["shipped"]["place"]["gln"], x["destinations"][0]["gln"]): x
        for x in down["shipments"]
    }
    plant = s.glns["plant"]
    assert set(shipments) == {
        (s.key("tin_a"), plant, s.glns["retailer1"]),
        (s.key("tin_a"), plant, s.glns["retailer2"]),
        (s.key("tin_b"), plant, s.glns["retailer3"]),
    }
    short = shipments[(s.key("tin_a"), plant, s.glns["retailer2"])]
    assert (short["shipped_quantity"], short["received_quantity"]) == (400, 390)
    assert short["missing_quantity"] == 10
    assert short["received"]["place"] == {"gln": s.glns["retailer2"], "name": "Hypermarket"}
    assert short["destinations"][0]["name"] == "Hypermarket"
    assert short["shipped"]["place"]["name"] == "Alpine Nutrition Plant"
    assert short["shipped"]["anchored"] and short["shipped"]["tx_hash"]
    assert all(x["received"] is not None for x in down["shipments"])

    up = _trace(write_path, s.key("tin_b"), "upstream")
    ups = {lot["lot_key"]: lot for lot in up["lots"]}
    assert set(ups) == {s.key(n) for n in ("tin_b", "base1", "base2", "milk", "sugar")}
    # Of each source, the fraction that ended in TIN-B: base1 200/800, base2 all of it,
    # milk 0.6 * 0.25 + 0.4 * 1 = 0.55, sugar 100/500 * 0.25 = 0.05.
    for name, share in {"base1": 0.25, "base2": 1.0, "milk": 0.55, "sugar": 0.05}.items():
        assert ups[s.key(name)]["share"] == pytest.approx(share), name
        assert ups[s.key(name)]["direction"] == "upstream"
    assert up["shipments"] and all(x["lot_key"] == s.key("tin_b") for x in up["shipments"])

    both = _trace(write_path, s.key("base1"), "both")
    assert {lot["lot_key"] for lot in both["lots"]} == {
        s.key(n) for n in ("base1", "milk", "sugar", "tin_a", "tin_b")
    }
    assert write_path.client.get(f"/api/v1/lots/0x{'ab' * 32}/trace").status_code == 404
    assert (
        write_path.client.get(
            f"/api/v1/lots/{s.key('milk')}/trace", params={"direction": "sideways"}
        ).status_code
        == 422
    )
