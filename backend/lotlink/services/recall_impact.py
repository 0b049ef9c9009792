"""What a recall reaches: its lots' traces put together, for the recall's page.

Each recalled lot is traced both ways (`lotlink.services.trace`): downstream, every lot made
from it (``affected``, with the share of the recalled lot it contains, by mass balance) and every
shipment and receipt of those lots; upstream, the lots it was made from (``source``). The other
inputs of affected lots (``input``: the sugar in a formula made from recalled milk) come from one
more query, so the picture shows what each affected lot was made of. A lot reached both ways
(recalling a lot and one of its sources together) counts as affected.

Places are the GLNs where recalled and affected lots were shipped to or received: where stock
may still be.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotlink.models import Actor, LineageEdge, Lot, Recall
from lotlink.services.trace import Direction, Shipment, TraceEdge, trace

#: How a lot stands to the recall, in the order a table lists them.
ROLES = ("recalled", "affected", "source", "input")


@dataclass(slots=True)
class ImpactLot:
    lot_key: str
    gtin: str
    lot_code: str
    product_name: str | None
    quantity_milli: int
    unit: str
    owner: str
    owner_name: str | None
    role: str  # one of ROLES
    # For an affected lot: recalled lot key -> the share of that lot it contains, and that
    # share as a quantity in the recalled lot's unit.
    shares: dict[str, float] = field(default_factory=dict)
    traced_milli: dict[str, int] = field(default_factory=dict)

    @property
    def highlighted(self) -> bool:
        return self.role in ("recalled", "affected")


@dataclass(slots=True)
class Delivery:
    """What of one lot went to one place: shipped there, received there (None if unrecorded)."""

    lot_key: str
    shipped_milli: int | None
    received_milli: int | None
    unit: str | None
    received: bool = False  # a receipt there is recorded (with or without a quantity)


@dataclass(slots=True)
class ImpactPlace:
    gln: str
    name: str | None
    deliveries: dict[str, Delivery] = field(default_factory=dict)  # by lot key


@dataclass(slots=True)
class RecallImpact:
    recall: Recall
    lots: dict[str, ImpactLot] = field(default_factory=dict)
    edges: list[TraceEdge] = field(default_factory=list)
    shipments: list[Shipment] = field(default_factory=list)
    places: dict[str, ImpactPlace] = field(default_factory=dict)

    def of_role(self, role: str) -> list[ImpactLot]:
        return [lot for lot in self.lots.values() if lot.role == role]


def _impact_lot(lot: Lot, owner_name: str | None, role: str) -> ImpactLot:
    return ImpactLot(
        lot_key=lot.lot_key,
        gtin=lot.gtin,
        lot_code=lot.lot_code,
        product_name=lot.product_name,
        quantity_milli=lot.quantity_milli,
        unit=lot.unit,
        owner=lot.owner_address,
        owner_name=owner_name,
        role=role,
    )


def recall_impact(session: Session, recall: Recall) -> RecallImpact:
    """The lots, lineage edges, shipments and places `recall` reaches (see the module)."""
    impact = RecallImpact(recall=recall)
    recalled = [item.lot_key for item in recall.lots]
    edges: dict[tuple[str, str], TraceEdge] = {}
    shipments: dict[tuple[str | None, str | None, str], Shipment] = {}
    for key in recalled:
        found = trace(session, key, Direction.BOTH)
        for lot in found.lots:
            role = (
                "recalled"
                if lot.lot_key in recalled
                else ("affected" if lot.direction == "downstream" else "source")
            )
            entry = impact.lots.get(lot.lot_key)
            if entry is None:
                entry = impact.lots[lot.lot_key] = ImpactLot(
                    lot.lot_key, lot.gtin, lot.lot_code, lot.product_name, lot.quantity_milli,
                    lot.unit, lot.owner, lot.owner_name, role,
                )  # fmt: skip
            elif ROLES.index(role) < ROLES.index(entry.role):
                entry.role = role  # reached both ways: the closer role wins
            if lot.direction == "downstream":
                entry.shares[key] = lot.share
                if lot.traced_quantity_milli is not None:
                    entry.traced_milli[key] = lot.traced_quantity_milli
        for edge in found.edges:
            edges[(edge.parent_key, edge.child_key)] = edge
        for shipment in found.shipments:
            ends = (shipment.shipped, shipment.received)
            digests = tuple(None if m is None else m.digest for m in ends)
            shipments[(digests[0], digests[1], shipment.lot_key)] = shipment
    _add_other_inputs(session, impact, edges)
    impact.edges = sorted(edges.values(), key=lambda e: (e.parent_key, e.child_key))
    impact.shipments = [
        s for s in shipments.values() if impact.lots[s.lot_key].highlighted
    ]  # upstream lots' own shipments are not what the recall is about
    _collect_places(impact)
    return impact


def _add_other_inputs(
    session: Session, impact: RecallImpact, edges: dict[tuple[str, str], TraceEdge]
) -> None:
    affected = [lot.lot_key for lot in impact.lots.values() if lot.role == "affected"]
    if not affected:
        return
    rows = session.execute(
        select(LineageEdge, Lot, Actor.name)
        .join(Lot, Lot.lot_key == LineageEdge.parent_key)
        .outerjoin(Actor, Actor.address == Lot.owner_address)
        .where(LineageEdge.child_key.in_(affected))
    ).all()
    for edge, lot, owner_name in rows:
        if lot.lot_key not in impact.lots:
            impact.lots[lot.lot_key] = _impact_lot(lot, owner_name, "input")
        edges.setdefault(
            (edge.parent_key, edge.child_key),
            TraceEdge(edge.parent_key, edge.child_key, edge.quantity_milli, edge.unit),
        )


def _add(total: int | None, more: int | None) -> int | None:
    return total if more is None else (total or 0) + more


def _collect_places(impact: RecallImpact) -> None:
    """A shipment's places are its destinations; a receipt matched to no shipment, its own."""
    for shipment in impact.shipments:
        glns = [p.gln for p in shipment.destinations if p.gln]
        names = {p.gln: p.name for p in shipment.destinations}
        if not glns and shipment.received is not None and shipment.received.place.gln:
            glns = [shipment.received.place.gln]
            names[glns[0]] = shipment.received.place.name
        moved = shipment.shipped or shipment.received
        for gln in dict.fromkeys(glns):
            place = impact.places.setdefault(gln, ImpactPlace(gln, names.get(gln)))
            place.name = place.name or names.get(gln)
            went = place.deliveries.setdefault(
                shipment.lot_key,
                Delivery(shipment.lot_key, None, None, None if moved is None else moved.unit),
            )
            went.shipped_milli = _add(went.shipped_milli, shipment.shipped_milli)
            went.received_milli = _add(went.received_milli, shipment.received_milli)
            went.received = went.received or shipment.received is not None
