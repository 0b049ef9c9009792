"""The recall picture's layout on its own (no chain, no database): every lineage edge points
down, long edges pass beside the layers they cross, no two boxes overlap, places sit below all
lots, a picture too big to read is not drawn, and quantities and shares read as people write
them."""

from __future__ import annotations

from itertools import pairwise

from lotlink.models import Recall
from lotlink.services.recall_impact import Delivery, ImpactLot, ImpactPlace, RecallImpact
from lotlink.services.trace import TraceEdge
from lotlink.web.lineage_graph import MAX_NODES, Node, draw, percent, quantity


def lot(key: str, role: str, **shares: float) -> ImpactLot:
    return ImpactLot(
        lot_key=key, gtin="09521230006019", lot_code=key.upper(), product_name=f"Product {key}",
        quantity_milli=1_000_000, unit="KGM", owner="0x" + "11" * 20, owner_name="Owner",
        role=role, shares=dict(shares),
    )  # fmt: skip


def impact(lots: list[ImpactLot], edges: list[tuple[str, str]], places: int = 0) -> RecallImpact:
    found = RecallImpact(recall=Recall(recall_id=1))
    found.lots = {item.lot_key: item for item in lots}
    found.edges = [TraceEdge(p, c, 250_000, "KGM") for p, c in edges]
    affected = [item.lot_key for item in lots if item.role == "affected"]
    for n in range(places):
        gln = f"{9521234000000 + n}"
        went = Delivery(affected[n % len(affected)], 100_000, 90_000, "H87", received=True)
        found.places[gln] = ImpactPlace(gln, f"Shop {n}", {went.lot_key: went})
    return found


def overlapping(nodes: list[Node]) -> list[tuple[str, str]]:
    return [
        (a.key, b.key)
        for i, a in enumerate(nodes)
        for b in nodes[i + 1 :]
        if a.x < b.x + b.width and b.x < a.x + a.width
        and a.y < b.y + b.height and b.y < a.y + a.height
    ]  # fmt: skip


def test_a_layered_picture_with_long_edges_and_places() -> None:
    # Two sources, the recalled lot, a chain of three lots below it, and one lot made from
    # both the recalled lot and the end of the chain (an edge spanning three layers).
    lots = [
        lot("s1", "source"), lot("s2", "source"), lot("r", "recalled"),
        lot("a1", "affected", r=0.5), lot("a2", "affected", r=0.25),
        lot("a3", "affected", r=0.1), lot("mix", "affected", r=0.6),
        lot("other", "input"),
    ]  # fmt: skip
    edges = [
        ("s1", "r"), ("s2", "r"), ("r", "a1"), ("a1", "a2"), ("a2", "a3"),
        ("r", "mix"), ("a3", "mix"), ("other", "a2"),
    ]  # fmt: skip
    picture = draw(impact(lots, edges, places=3))
    assert picture.drawn
    at = {node.key: node for node in picture.nodes}
    assert len(at) == len(lots) + 3
    for parent, child in edges:
        assert at[parent].y + at[parent].height < at[child].y, (parent, child)
    lowest_lot = max(node.y for node in picture.nodes if node.kind != "place")
    assert all(node.y > lowest_lot for node in picture.nodes if node.kind == "place")
    assert overlapping(picture.nodes) == []
    assert all(n.x >= 0 and n.x + n.width <= picture.width for n in picture.nodes)
    # The long edge r -> mix crosses the layers of a1, a2 and a3 through a point reserved in
    # each: into and down through each of the three, then into mix.
    (long,) = [e for e in picture.edges if e.title.startswith("250 kg of lot R went into lot MIX")]
    assert long.path.count(" C ") == 7
    assert [n.lines[2] for n in picture.nodes if n.key == "mix"] == ["60% of R"]
    shipped = [e for e in picture.edges if e.kind == "shipment"]
    assert [e.label for e in shipped] == ["90 pcs received"] * 3
    labels = sorted((e.label_x, e.label_y) for e in picture.edges)
    assert all(b != a for a, b in pairwise(labels))  # no two labels on the same spot


def test_a_picture_too_big_to_read_is_not_drawn() -> None:
    lots = [lot("r", "recalled")] + [lot(f"a{n}", "affected", r=0.001) for n in range(MAX_NODES)]
    picture = draw(impact(lots, [("r", f"a{n}") for n in range(MAX_NODES)]))
    assert not picture.drawn and picture.nodes == [] and picture.edges == []


def test_quantities_and_shares_read_as_people_write_them() -> None:
    assert quantity(1_250_500, "KGM") == "1,250.5 kg"
    assert quantity(400_000, "H87") == "400 pcs"
    assert quantity(12_000, "CT") == "12 CT"
    assert quantity(None, "KGM") == "—"
    assert [percent(s) for s in (1, 0.5, 0.125, 0.2000001, 0.0004, 0)] == [
        "100%", "50%", "12.5%", "20%", "<0.1%", "0%",
    ]  # fmt: skip
