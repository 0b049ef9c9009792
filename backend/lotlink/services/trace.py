"""Trace a lot upstream to its sources and downstream to every lot, shipment and receipt made
from it, quantity-aware.

Queries per direction, whatever the graph's size: one recursive CTE gives every lineage edge
reachable from the lot; one query the lots at both ends; one the shipping and receiving
checkpoints of those lots with their anchors; one the actors behind their places (GLNs). No
query per lot or per edge. They select columns, not ORM entities: a trace of a few hundred lots
reads about a thousand rows, and building an ORM object for each cost several times the SQL.

**Shares (mass balance).** Downstream, each lot's ``share`` is the fraction of the traced lot's
quantity that went into it::

    share(traced) = 1
    share(child)  = min(1, Σ over its parents p in the trace of share(p) * r(p → child))
    r(p → child)  = min(1, consumed(p → child) / quantity(p))

(``consumed`` is the lineage edge's quantity, in the parent's unit, as registered on chain; a
parent registered with quantity 0 counts as wholly consumed, ``r = 1``, the cautious reading.)
So 400 kg of a recalled 1,000 kg milk lot in one formula lot gives it 0.4, and the formula's
retail sub-lots split that 0.4 in proportion to what they drew from it. ``traced_quantity`` is
``share * quantity(traced)``, in the traced lot's unit.

Upstream, each source's ``share`` is the fraction of that source's own quantity that ended up
in the traced lot: ``share(traced) = 1``, ``share(p) = min(1, Σ over its children c in the trace
of r(p → c) * share(c))``.

**Shipments.** Each ``shipped`` checkpoint of a lot in the trace is matched to the earliest
``received`` checkpoint of the same lot, at or after it, whose location (GLN) is one of its
destinations; ``received`` checkpoints left over are listed on their own. Units received versus
shipped come from each event's quantity for that lot.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, case, select
from sqlalchemy.orm import Session

from lotlink.errors import UnknownLotError
from lotlink.models import (
    Actor,
    AnchorReceipt,
    Checkpoint,
    CheckpointKind,
    CheckpointLot,
    LineageEdge,
    Lot,
)

GLN_URI = "https://id.gs1.org/414/"


class Direction(StrEnum):
    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"
    BOTH = "both"


@dataclass(frozen=True, slots=True)
class TraceLot:
    lot_key: str
    gtin: str
    lot_code: str
    product_name: str | None
    quantity_milli: int
    unit: str
    owner: str
    owner_name: str | None
    direction: str  # "traced", "upstream" or "downstream"
    depth: int  # fewest lineage steps from the traced lot
    share: float
    traced_quantity_milli: int | None  # downstream: share * the traced lot's quantity


@dataclass(frozen=True, slots=True)
class TraceEdge:
    parent_key: str
    child_key: str
    quantity_milli: int
    unit: str


@dataclass(frozen=True, slots=True)
class Place:
    gln: str | None
    name: str | None


@dataclass(frozen=True, slots=True)
class Movement:
    """One shipping or receiving checkpoint of a lot in the trace."""

    digest: str
    kind: str
    lot_key: str
    event_time: datetime
    place: Place
    quantity_milli: int | None
    unit: str | None
    signer: str
    anchored: bool
    tx_hash: str | None
    block_number: int | None


@dataclass(frozen=True, slots=True)
class Shipment:
    lot_key: str
    shipped: Movement | None
    received: Movement | None
    destinations: list[Place]

    @property
    def shipped_milli(self) -> int | None:
        return None if self.shipped is None else self.shipped.quantity_milli

    @property
    def received_milli(self) -> int | None:
        return None if self.received is None else self.received.quantity_milli


@dataclass(slots=True)
class Trace:
    lot_key: str
    direction: Direction
    lots: list[TraceLot] = field(default_factory=list)
    edges: list[TraceEdge] = field(default_factory=list)
    shipments: list[Shipment] = field(default_factory=list)
    queries: int = 0

    @property
    def lot_keys(self) -> list[str]:
        return [lot.lot_key for lot in self.lots]

    def lot(self, lot_key: str) -> TraceLot:
        return next(lot for lot in self.lots if lot.lot_key == lot_key)


def _reachable_edges(session: Session, lot_key: str, *, upstream: bool) -> list[TraceEdge]:
    """Every lineage edge reachable from `lot_key` in one direction: one recursive CTE.

    The walk collects the edges themselves, each found by the index on its near end (the
    primary key upstream, ``parent_key`` downstream). Walking lot keys and joining the edge
    table to them afterwards made PostgreSQL's planner, which cannot know how few lots a walk
    reaches, hash-join the whole edge table: a scan of every edge in the index per trace.
    """
    edge = LineageEdge.__table__.c
    near = edge.child_key if upstream else edge.parent_key
    columns = (edge.parent_key, edge.child_key, edge.quantity_milli, edge.unit)
    walk = select(*columns).where(near == lot_key).cte("trace_walk", recursive=True)
    walked_far = walk.c.parent_key if upstream else walk.c.child_key
    # UNION (not UNION ALL): each edge once, however many paths lead to it.
    walk = walk.union(select(*columns).where(near == walked_far))
    rows = session.execute(select(walk.c.parent_key, walk.c.child_key, walk.c.quantity_milli,
                                  walk.c.unit))  # fmt: skip
    return [TraceEdge(str(p), str(c), int(q), str(u)) for p, c, q, u in rows]


def _depths(root: str, edges: list[TraceEdge], *, upstream: bool) -> dict[str, int]:
    nexts: dict[str, list[str]] = defaultdict(list)
    for e in edges:
        a, b = (e.child_key, e.parent_key) if upstream else (e.parent_key, e.child_key)
        nexts[a].append(b)
    depth = {root: 0}
    frontier = [root]
    while frontier:
        following = []
        for key in frontier:
            for nxt in nexts[key]:
                if nxt not in depth:
                    depth[nxt] = depth[key] + 1
                    following.append(nxt)
        frontier = following
    return depth


def _ratio(consumed: int, parent_quantity: int) -> Decimal:
    if parent_quantity <= 0:
        return Decimal(1)
    return min(Decimal(1), Decimal(consumed) / Decimal(parent_quantity))


def _topological(root: str, edges: list[TraceEdge], *, upstream: bool) -> list[str]:
    """Lots in an order where each comes after everything between it and the root (Kahn)."""
    nexts: dict[str, list[str]] = defaultdict(list)
    incoming: dict[str, int] = defaultdict(int)
    for e in edges:
        a, b = (e.child_key, e.parent_key) if upstream else (e.parent_key, e.child_key)
        nexts[a].append(b)
        incoming[b] += 1
    order, ready = [], [root]
    while ready:
        key = ready.pop()
        order.append(key)
        for nxt in nexts[key]:
            incoming[nxt] -= 1
            if incoming[nxt] == 0:
                ready.append(nxt)
    return order


def shares(
    root: str, edges: list[TraceEdge], quantities: dict[str, int], *, upstream: bool
) -> dict[str, Decimal]:
    """Mass balance through the lineage (see the module's docstring)."""
    share: dict[str, Decimal] = defaultdict(Decimal)
    share[root] = Decimal(1)
    into: dict[str, list[TraceEdge]] = defaultdict(list)
    for e in edges:
        into[e.parent_key if upstream else e.child_key].append(e)
    for key in _topological(root, edges, upstream=upstream):
        if key == root:
            continue
        if upstream:
            total = sum(
                (_ratio(e.quantity_milli, quantities.get(key, 0)) * share[e.child_key])
                for e in into[key]
            )
        else:
            total = sum(
                (share[e.parent_key] * _ratio(e.quantity_milli, quantities.get(e.parent_key, 0)))
                for e in into[key]
            )
        share[key] = min(Decimal(1), Decimal(total))
    return dict(share)


def _gln_of(uri: str | None) -> str | None:
    if uri and uri.startswith(GLN_URI):
        return uri.removeprefix(GLN_URI).split("/")[0]
    return None


def _destination_glns(event: dict[str, Any]) -> list[str]:
    glns = []
    for item in event.get("destinationList") or []:
        if isinstance(item, dict) and (gln := _gln_of(item.get("destination"))):
            glns.append(gln)
    return glns


def trace(session: Session, lot_key: str, direction: Direction | str = Direction.BOTH) -> Trace:
    """The trace of `lot_key` (0x lot key) in `direction`; UnknownLotError for an unknown lot."""
    direction = Direction(direction)
    key = lot_key.lower()
    result = Trace(lot_key=key, direction=direction)
    walks: list[tuple[bool, list[TraceEdge]]] = []
    if direction in (Direction.UPSTREAM, Direction.BOTH):
        walks.append((True, _reachable_edges(session, key, upstream=True)))
        result.queries += 1
    if direction in (Direction.DOWNSTREAM, Direction.BOTH):
        walks.append((False, _reachable_edges(session, key, upstream=False)))
        result.queries += 1
    keys = {key}
    for _, edges in walks:
        for e in edges:
            keys.update((e.parent_key, e.child_key))
    lots = {
        lot.lot_key: lot
        for lot in session.execute(
            select(
                Lot.lot_key, Lot.gtin, Lot.lot_code, Lot.product_name, Lot.quantity_milli,
                Lot.unit, Lot.owner_address,
            ).where(Lot.lot_key.in_(sorted(keys)))
        )
    }  # fmt: skip
    result.queries += 1
    if key not in lots:
        raise UnknownLotError(lot=key, field="lot_key")
    quantities = {k: lot.quantity_milli for k, lot in lots.items()}

    columns = (
        Checkpoint.digest, Checkpoint.kind, Checkpoint.event_time, Checkpoint.location_gln,
        Checkpoint.signer_address,
        # Only a shipment's document is read (for its destinations).
        case((Checkpoint.kind == CheckpointKind.SHIPPED, Checkpoint.epcis_json)).label(
            "epcis_json"
        ),
        CheckpointLot.lot_key, CheckpointLot.quantity_milli, CheckpointLot.unit,
        AnchorReceipt.event_digest.label("anchored_digest"), AnchorReceipt.tx_hash,
        AnchorReceipt.block_number,
    )  # fmt: skip
    checkpoints = session.execute(
        select(*columns)
        .join(CheckpointLot, CheckpointLot.checkpoint_digest == Checkpoint.digest)
        .outerjoin(AnchorReceipt, AnchorReceipt.event_digest == Checkpoint.digest)
        .where(
            CheckpointLot.lot_key.in_(sorted(keys)),
            Checkpoint.kind.in_([CheckpointKind.SHIPPED, CheckpointKind.RECEIVED]),
        )
        .order_by(Checkpoint.event_time, Checkpoint.digest)
    ).all()
    result.queries += 1
    glns = {lot.owner_address for lot in lots.values()}
    places = {c.location_gln for c in checkpoints if c.location_gln}
    destinations = {
        c.digest: _destination_glns(json.loads(c.epcis_json)["epcisBody"]["eventList"][0])
        for c in checkpoints
        if c.kind is CheckpointKind.SHIPPED
    }
    for found in destinations.values():
        places.update(found)
    actors = session.execute(
        select(Actor.address, Actor.gln, Actor.name).where(
            Actor.address.in_(sorted(glns)) | Actor.gln.in_(sorted(places))
        )
    ).all()
    result.queries += 1
    name_of_address = {str(a): n for a, _, n in actors}
    name_of_gln = {str(g): n for _, g, n in actors if g}

    seen: set[str] = set()
    for upstream, edges in walks:
        depth = _depths(key, edges, upstream=upstream)
        share = shares(key, edges, quantities, upstream=upstream)
        for lot_key_ in sorted(depth, key=lambda k: (depth[k], k)):
            if lot_key_ in seen or lot_key_ not in lots:
                continue
            seen.add(lot_key_)
            lot = lots[lot_key_]
            part = share.get(lot_key_, Decimal(0))
            result.lots.append(
                TraceLot(
                    lot_key=lot_key_,
                    gtin=lot.gtin,
                    lot_code=lot.lot_code,
                    product_name=lot.product_name,
                    quantity_milli=lot.quantity_milli,
                    unit=lot.unit,
                    owner=lot.owner_address,
                    owner_name=name_of_address.get(lot.owner_address),
                    direction="traced"
                    if lot_key_ == key
                    else ("upstream" if upstream else "downstream"),
                    depth=depth[lot_key_],
                    share=float(part),
                    traced_quantity_milli=None
                    if upstream and lot_key_ != key
                    else int(part * quantities[key]),
                )
            )
        result.edges.extend(edges)

    def movement(c: Row[Any]) -> Movement:
        return Movement(
            digest=c.digest,
            kind=c.kind.value,
            lot_key=c.lot_key,
            event_time=c.event_time,
            place=Place(c.location_gln, name_of_gln.get(c.location_gln or "")),
            quantity_milli=c.quantity_milli,
            unit=c.unit,
            signer=c.signer_address,
            anchored=c.anchored_digest is not None,
            tx_hash=c.tx_hash,
            block_number=c.block_number,
        )

    received = [movement(c) for c in checkpoints if c.kind is CheckpointKind.RECEIVED]
    arrivals: dict[tuple[str, str | None], list[Movement]] = defaultdict(list)
    for r in received:  # in event time order
        arrivals[(r.lot_key, r.place.gln)].append(r)
    used: set[tuple[str, str]] = set()
    for c in checkpoints:
        if c.kind is not CheckpointKind.SHIPPED:
            continue
        shipped = movement(c)
        to = destinations.get(c.digest, [])
        match = min(
            (
                r
                for gln in to
                for r in arrivals[(shipped.lot_key, gln)]
                if (r.digest, r.lot_key) not in used and r.event_time >= shipped.event_time
            ),
            key=lambda r: (r.event_time, r.digest),
            default=None,
        )
        if match is not None:
            used.add((match.digest, match.lot_key))
        result.shipments.append(
            Shipment(
                lot_key=shipped.lot_key,
                shipped=shipped,
                received=match,
                destinations=[Place(g, name_of_gln.get(g)) for g in to],
            )
        )
    for r in received:
        if (r.digest, r.lot_key) not in used:
            result.shipments.append(Shipment(r.lot_key, None, r, []))
    return result
