"""A recall's lineage as a picture: a layered drawing of its lots and places, ready for the SVG
template (``lineage_graph.svg``), which escapes every text.

The layout is the classic layered one (Sugiyama): each lot sits one layer below the lowest of
its parents (longest-path layering over the topological order of `graphlib`, so every lineage
edge points down), places where affected lots went sit in one layer below them all, an edge that
spans several layers passes through a point reserved in each layer it crosses (so it never runs
through a box), the order within each layer is improved by barycentre sweeps (each node moves
towards the mean position of its neighbours in the layer above, then below), and each layer is
centred. That is plenty for supply chains, which are shallow and narrow next to graph-drawing
benchmarks; the table under the picture is the accessible (and, past `MAX_NODES`, the only) view.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from graphlib import TopologicalSorter
from itertools import pairwise

from lotlink.epcis.build import json_number
from lotlink.gs1.digital_link import DigitalLink
from lotlink.services.recall_impact import ImpactLot, RecallImpact

#: Past this many lots and places, no picture is drawn: the tables say it all.
MAX_NODES = 120
NODE_W, NODE_H = 152, 62
PLACE_H = 48
GAP_X, GAP_Y = 14, 70
DUMMY_W = 16
MARGIN = 6
SWEEPS = 4
UNIT_WORDS = {"KGM": "kg", "LTR": "L", "H87": "pcs", "GRM": "g", "TNE": "t", "MLT": "mL"}


def quantity(milli: int | None, unit: str | None) -> str:
    """``1,250.5 kg``: a quantity in thousandths, in words a person reads."""
    if milli is None:
        return "—"
    number = json_number(Decimal(milli) / 1000)
    text = f"{number:,}" if isinstance(number, int) else f"{number:,.3f}".rstrip("0").rstrip(".")
    return f"{text} {UNIT_WORDS.get(unit or '', unit or '')}".strip()


def percent(share: float) -> str:
    """``40%``, ``12.5%``, ``<0.1%``: a share as a person reads it."""
    value = share * 100
    if 0 < value < 0.1:
        return "<0.1%"
    if abs(value - round(value)) < 0.05:
        return f"{round(value)}%"
    return f"{value:.1f}%"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(slots=True)
class Node:
    key: str
    kind: str  # a lot's role ("recalled", "affected", "source", "input"), "place", or "dummy"
    lines: list[str]
    title: str
    href: str | None
    width: int
    height: int
    layer: int = 0
    x: float = 0.0  # top left
    y: float = 0.0

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


@dataclass(slots=True)
class Edge:
    kind: str  # "lineage", "lineage affected" or "shipment"
    path: str
    label: str
    label_x: float
    label_y: float
    title: str


@dataclass(slots=True)
class Picture:
    width: int
    height: int
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    drawn: bool = True


def _lot_lines(lot: ImpactLot, impact: RecallImpact) -> list[str]:
    lines = [_clip(lot.product_name or f"GTIN {lot.gtin}", 21), _clip(f"Lot {lot.lot_code}", 24)]
    if lot.role == "recalled":
        lines.append("RECALLED")
    elif lot.role == "affected":
        recalled = impact.lots
        parts = [
            f"{percent(share)} of {recalled[key].lot_code}" for key, share in lot.shares.items()
        ]
        lines.append(_clip(", ".join(parts), 26) if len(parts) <= 2 else "from several lots")
    elif lot.role == "source":
        lines.append(_clip(lot.owner_name or "source", 24))
    else:
        lines.append("other input")
    return lines


def _layers(impact: RecallImpact) -> dict[str, int]:
    parents: dict[str, set[str]] = defaultdict(set)
    for edge in impact.edges:
        parents[edge.child_key].add(edge.parent_key)
    layer: dict[str, int] = {}
    order = TopologicalSorter({key: parents[key] for key in impact.lots}).static_order()
    for key in order:
        layer[key] = max((layer[p] + 1 for p in parents[key] if p in layer), default=0)
    return layer


def _order(layers: list[list[Node]], up: dict[str, list[str]], down: dict[str, list[str]]) -> None:
    """Barycentre sweeps, down then up: each row sorted by the mean place of its neighbours in
    the row before it (a node without any keeps its place; the sort is stable)."""
    for sweep in range(SWEEPS):
        downward = sweep % 2 == 0
        neighbours = up if downward else down
        for row in layers[1:] if downward else layers[-2::-1]:
            place = {n.key: (i + 0.5) / len(r) for r in layers for i, n in enumerate(r)}
            weight = {
                node.key: (
                    sum(place[k] for k in neighbours[node.key]) / len(neighbours[node.key])
                    if neighbours[node.key]
                    else place[node.key]
                )
                for node in row
            }
            row.sort(key=lambda node: weight[node.key])


@dataclass(slots=True)
class _Link:
    """One edge to draw: its nodes from upper to lower, through the points it reserves."""

    chain: list[str]
    kind: str
    label: str
    title: str


def _nodes(impact: RecallImpact) -> dict[str, Node]:
    layer_of = _layers(impact)
    nodes: dict[str, Node] = {}
    for key, lot in sorted(impact.lots.items(), key=lambda item: (item[1].role, item[1].lot_code)):
        nodes[key] = Node(
            key=key,
            kind=lot.role,
            lines=_lot_lines(lot, impact),
            title=f"{lot.product_name or 'GTIN ' + lot.gtin}, lot {lot.lot_code} ({lot.role}): "
            f"{quantity(lot.quantity_milli, lot.unit)}, {lot.owner_name or lot.owner}",
            href=DigitalLink(gtin=lot.gtin, lot=lot.lot_code).path,
            width=NODE_W,
            height=NODE_H,
            layer=layer_of[key],
        )
    place_layer = max(layer_of.values(), default=0) + 1
    for gln, place in sorted(impact.places.items()):
        nodes["place:" + gln] = Node(
            key="place:" + gln,
            kind="place",
            lines=[_clip(place.name or "Unnamed place", 21), f"GLN {gln}"],
            title=f"{place.name or 'Unnamed place'} (GLN {gln}): affected stock went here",
            href=None,
            width=NODE_W,
            height=PLACE_H,
            layer=place_layer,
        )
    return nodes


def _links(impact: RecallImpact, nodes: dict[str, Node]) -> list[_Link]:
    """Lineage edges (quantity consumed) and shipments (quantity received, else sent); an edge
    spanning several layers gets a reserved point (a dummy node) in each layer it crosses."""
    ends: list[tuple[str, str, str, str, str]] = []
    for edge in impact.edges:
        parent, child = impact.lots[edge.parent_key], impact.lots[edge.child_key]
        kind = "lineage affected" if parent.highlighted and child.highlighted else "lineage"
        label = quantity(edge.quantity_milli, edge.unit)
        title = f"{label} of lot {parent.lot_code} went into lot {child.lot_code}"
        ends.append((edge.parent_key, edge.child_key, kind, label, title))
    for gln, place in impact.places.items():
        for went in place.deliveries.values():
            lot = impact.lots[went.lot_key]
            shipped = quantity(went.shipped_milli, went.unit)
            received = quantity(went.received_milli, went.unit)
            if went.received_milli is not None:
                label = f"{received} received"
            elif went.shipped_milli is not None:
                label = f"{shipped} sent"
            else:  # the checkpoints named no quantity
                label = "received" if went.received else "shipped"
            title = f"Lot {lot.lot_code}: {shipped} shipped, {received} received at GLN {gln}"
            ends.append((went.lot_key, "place:" + gln, "shipment", label, title))
    links = []
    for upper, lower, kind, label, title in ends:
        chain = [upper]
        for step in range(nodes[upper].layer + 1, nodes[lower].layer):
            key = f"dummy:{upper}:{lower}:{step}"
            nodes[key] = Node(key, "dummy", [], "", None, DUMMY_W, NODE_H, layer=step)
            chain.append(key)
        chain.append(lower)
        links.append(_Link(chain, kind, label, title))
    return links


def _place(nodes: dict[str, Node], links: list[_Link]) -> tuple[int, int]:
    """Orders each layer and gives every node its position; the picture's (width, height)."""
    up: dict[str, list[str]] = defaultdict(list)
    down: dict[str, list[str]] = defaultdict(list)
    for link in links:
        for a, b in pairwise(link.chain):
            down[a].append(b)
            up[b].append(a)
    layers: list[list[Node]] = [[] for _ in range(max(n.layer for n in nodes.values()) + 1)]
    for node in nodes.values():
        layers[node.layer].append(node)
    layers = [row for row in layers if row]
    _order(layers, up, down)
    widths = [sum(n.width for n in row) + GAP_X * (len(row) - 1) for row in layers]
    width = max(widths) + 2 * MARGIN
    y = float(MARGIN)
    for row, row_width in zip(layers, widths, strict=True):
        x = (width - row_width) / 2
        tallest = max(n.height for n in row)
        for node in row:
            node.x, node.y = x, y + (tallest - node.height) / 2
            x += node.width + GAP_X
        y += tallest + GAP_Y
    return int(width), int(y - GAP_Y + MARGIN)


def _ports(nodes: dict[str, Node], links: list[_Link]) -> dict[tuple[int, str, str], float]:
    """Where each edge leaves (``"out"``) or enters (``"in"``) a box: spread along its bottom or
    top in the order of the nodes at the other ends, so edges do not bunch up or cross there."""
    leaving: dict[str, list[tuple[float, int]]] = defaultdict(list)
    entering: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for index, link in enumerate(links):
        first, second = link.chain[0], link.chain[1]
        before, last = link.chain[-2], link.chain[-1]
        leaving[first].append((nodes[second].centre, index))
        entering[last].append((nodes[before].centre, index))
    ports: dict[tuple[int, str, str], float] = {}
    for side, table in (("out", leaving), ("in", entering)):
        for key, ends in table.items():
            node = nodes[key]
            for rank, (_, index) in enumerate(sorted(ends)):
                share = 0.5 if len(ends) == 1 else 0.2 + 0.6 * rank / (len(ends) - 1)
                ports[(index, side, key)] = node.x + node.width * share
    return ports


def draw(impact: RecallImpact) -> Picture:
    """The picture of `impact`; past `MAX_NODES`, ``drawn`` False and no nodes (the template
    then says so)."""
    if len(impact.lots) + len(impact.places) > MAX_NODES:
        return Picture(width=520, height=36, drawn=False)
    nodes = _nodes(impact)
    links = _links(impact, nodes)
    width, height = _place(nodes, links)
    ports = _ports(nodes, links)
    picture = Picture(width=width, height=height)
    picture.nodes = [n for n in nodes.values() if n.kind != "dummy"]
    for index, link in enumerate(links):
        first, last = nodes[link.chain[0]], nodes[link.chain[-1]]
        points = [(ports[(index, "out", first.key)], first.y + first.height)]
        for key in link.chain[1:-1]:
            node = nodes[key]
            points += [(node.centre, node.y), (node.centre, node.y + node.height)]
        points.append((ports[(index, "in", last.key)], last.y))
        path = f"M {points[0][0]:.1f} {points[0][1]:.1f}"
        for (x1, y1), (x2, y2) in pairwise(points):
            bend = (y2 - y1) / 2
            path += f" C {x1:.1f} {y1 + bend:.1f} {x2:.1f} {y2 - bend:.1f} {x2:.1f} {y2:.1f}"
        # The label sits on the middle of the edge's first stretch (where such a symmetric
        # curve crosses the mean of its ends): ports keep neighbouring edges' middles apart.
        (x1, y1), (x2, y2) = points[0], points[1]
        picture.edges.append(
            Edge(link.kind, path, link.label, (x1 + x2) / 2, (y1 + y2) / 2, link.title)
        )
    return picture
