"""Recalls reach downstream: a recall of the raw milk is inherited by every lot made from it
(not by the sugar beside it), and once closed it is no longer active anywhere."""

from __future__ import annotations

from fixtures.writepath import WritePath
from lotlink.indexer.derived import recall_status
from regulator.scenario import Scenario


def test_recalls_are_inherited_downstream_and_closed_ones_are_not_active(
    write_path: WritePath, scenario: Scenario
) -> None:
    s = scenario
    issued = write_path.client.post(
        "/api/v1/recalls",
        json={"recall_class": 2, "reason": "Listeria", "lots": [{"lot_key": s.key("milk")}]},
        headers=s.parties["regulator"].headers,
    )
    assert issued.status_code == 201, issued.text
    recall_id = issued.json()["recall_id"]
    with write_path.session() as session:
        reach = {name: recall_status(session, s.key(name)) for name in s.lots}
    assert not reach["sugar"].recalled
    assert [(r.recall_id, r.depth) for r in reach["milk"].recalls] == [(recall_id, 0)]
    assert [(r.recall_id, r.depth, r.inherited) for r in reach["tin_b"].recalls] == [
        (recall_id, 2, True)
    ]
    assert all(reach[n].recalled for n in ("base1", "base2", "tin_a"))

    closed = write_path.client.post(
        f"/api/v1/recalls/{recall_id}/close",
        json={"reason": "stock destroyed"},
        headers=s.parties["regulator"].headers,
    )
    assert closed.status_code == 200, closed.text
    assert write_path.client.get("/api/v1/recalls").json() == []
    with write_path.session() as session:
        assert not any(recall_status(session, s.key(name)).recalled for name in s.lots)
