"""A synthetic supply graph for `lotlink bench trace`: index rows (actors, lots, lineage,
checkpoints, their lot links and anchor receipts) in the shape of a real food chain, generated
straight into the tables, with no chain behind them.

Shape, per 23 lots (so ``lots`` = 1,000,000 gives about 43,500 of the first two layers):

- 1 **raw** lot (a farm's milk): produced, shipped to a plant, received there;
- 1 **intermediate** lot (a plant's formula base) made from 2-4 raw lots (fan-in), each raw lot
  going into about 3 bases (fan-out); one transformation event touching output and inputs;
- 3 **finished** lots (tins) made from 1-3 bases of the same region; transformed, shipped to a
  distributor, received there;
- about 18 **retail** sub-lots, each finished lot split into about 6 by its distributor, each
  shipped to a retailer and received there (one in fifty a few units short).

Parents are drawn from a window of neighbouring lots (a region), so a raw lot reaches about 130
lots downstream, as a real recall would, instead of the whole graph. Every lot's events form its
hash chain (``prev_digest``); digests, keys of transactions and signatures are synthetic but of
the real formats, and every event has a direct-record anchor receipt. The same ``lots`` and
``seed`` give the same rows.
"""

from __future__ import annotations

import hashlib
import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from eth_utils import keccak

from lotlink.gs1.keys import check_digit

#: Bump when the rows change, so cached databases are rebuilt.
GENERATOR_VERSION = 1

CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
GLN_URI = "https://id.gs1.org/414/"
_START = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
_SIGNATURE = "0x" + "5a" * 65
_WINDOW = 24  # how far apart (in lots of the layer) a lot's parents may be: its region

# (GTIN-14 body without its check digit, product, unit) per layer.
_PRODUCTS = (
    ("0952123000001", "Raw milk", "KGM"),
    ("0952123000002", "Formula base", "KGM"),
    ("0952123000003", "Infant formula 800 g", "H87"),
    ("0952123000004", "Infant formula 800 g, store case", "H87"),
)
RAW, INTERMEDIATE, FINISHED, RETAIL = range(4)
_CODE_PREFIX = "RIFS"


def _gtin(body: str) -> str:
    return body + str(check_digit(body))


def raw_gtin() -> str:
    """The GTIN of the raw lots: the lots a recall's trace starts from."""
    return _gtin(_PRODUCTS[RAW][0])


def _hex(tag: bytes, n: int, size: int = 32) -> str:
    return "0x" + hashlib.sha256(b"%s-%d" % (tag, n)).hexdigest()[: 2 * size]


def _stamps(moment: datetime) -> tuple[str, str]:
    """The instant (whole seconds, UTC) as SQLAlchemy stores it in SQLite, without an offset
    (PostgreSQL sessions loading these rows run in UTC), and as an EPCIS eventTime."""
    text = moment.isoformat(sep=" ")  # "2026-01-05 06:00:00+00:00"
    return text[:19] + ".000000", f"{text[:10]}T{text[11:19]}.000Z"


@dataclass(frozen=True, slots=True)
class Table:
    """Rows for one table, in an order that satisfies its foreign keys."""

    name: str
    columns: tuple[str, ...]
    rows: list[tuple[object, ...]]


@dataclass(frozen=True, slots=True)
class _Event:
    number: int
    kind: str  # a CheckpointKind value
    lot: int  # the primary lot
    touched: tuple[tuple[int, int], ...]  # (lot, quantity in thousandths), primary first
    moment: datetime
    place: int  # actor whose GLN is the event's location
    signer: int
    destination: int | None  # shipped events: the actor receiving


class SupplyGraph:
    """The graph's structure (layers, lineage, owners, destinations), built once from `lots`
    and `seed`; `tables` streams its rows."""

    def __init__(self, lots: int, *, seed: int = 6) -> None:
        if lots < 23:
            raise ValueError("a synthetic supply graph needs at least 23 lots")
        self.lots, self.seed = lots, seed
        unit = lots // 23
        sizes = (unit, unit, 3 * unit, lots - 5 * unit)
        self.first = [sum(sizes[:i]) for i in range(4)]
        self.sizes = sizes
        rng = random.Random(seed)
        farms, plants = max(1, unit // 20), max(1, unit // 100)
        distributors, retailers = max(1, sizes[FINISHED] // 500), max(1, sizes[RETAIL] // 400)
        # Actors, in blocks: farms, plants, distributors, retailers.
        self.actor_first = [0, farms, farms + plants, farms + plants + distributors]
        self.actors = farms + plants + distributors + retailers
        self.layer = array("b", bytes(lots))
        self.quantity = array("q", [0]) * lots
        self.owner = array("l", [0]) * lots
        self.ships_to = array("l", [-1]) * lots  # actor a lot is shipped to (-1: not shipped)
        self.edges: list[tuple[int, int, int]] = []  # (child, parent, quantity), child order
        self.parents: list[tuple[int, ...]] = [()] * lots
        children = array("l", [0]) * lots
        first_child = array("l", [-1]) * lots

        def pick(layer: int, position: int, of: int, count: int) -> list[int]:
            size = self.sizes[layer]
            centre = position * size // of
            window = range(centre - _WINDOW // 2, centre + _WINDOW // 2)
            picked = rng.sample(window, min(count, size, len(window)))
            return sorted({self.first[layer] + p % size for p in picked})

        for i in range(sizes[RAW]):
            lot = self.first[RAW] + i
            self.layer[lot] = RAW
            self.quantity[lot] = 20_000_000  # 20 t of milk
            self.owner[lot] = i * farms // sizes[RAW]
        for layer, low, high, draw in (
            (INTERMEDIATE, 2, 4, (2_000_000, 5_000_000)),
            (FINISHED, 1, 3, (500_000, 2_000_000)),
        ):
            for i in range(sizes[layer]):
                lot = self.first[layer] + i
                self.layer[lot] = layer
                found = pick(layer - 1, i, sizes[layer], rng.randint(low, high))
                drawn = [rng.randint(*draw) // 1000 * 1000 for _ in found]
                self.parents[lot] = tuple(found)
                for parent, amount in zip(found, drawn, strict=True):
                    self.edges.append((lot, parent, amount))
                    children[parent] += 1
                    if first_child[parent] < 0:
                        first_child[parent] = lot
                if layer == INTERMEDIATE:
                    self.quantity[lot] = sum(drawn)
                    self.owner[lot] = self.actor_first[1] + i * plants // sizes[layer]
                else:  # 1.25 tins per kg of base, made at the plant of its first base
                    self.quantity[lot] = sum(drawn) * 5 // 4000 * 1000
                    self.owner[lot] = self.owner[found[0]]
                    self.ships_to[lot] = self.actor_first[2] + rng.randrange(distributors)
        for i in range(sizes[RAW]):  # milk goes to the plant of its first base
            lot = self.first[RAW] + i
            child = first_child[lot]
            self.ships_to[lot] = self.owner[child] if child >= 0 else self.actor_first[1]
        for i in range(sizes[RETAIL]):
            lot = self.first[RETAIL] + i
            parent = self.first[FINISHED] + i * sizes[FINISHED] // sizes[RETAIL]
            children[parent] += 1
            self.layer[lot] = RETAIL
            self.parents[lot] = (parent,)
            self.owner[lot] = self.ships_to[parent]  # split by the distributor holding it
            self.ships_to[lot] = self.actor_first[3] + rng.randrange(retailers)
        for i in range(sizes[RETAIL]):
            lot = self.first[RETAIL] + i
            (parent,) = self.parents[lot]
            self.quantity[lot] = self.quantity[parent] // children[parent] // 1000 * 1000
            self.edges.append((lot, parent, self.quantity[lot]))
        self.short = {lot for lot in range(self.first[RETAIL], lots) if rng.random() < 0.02}
        self.gtins = tuple(_gtin(body) for body, _, _ in _PRODUCTS)
        self.codes = [
            f"{_CODE_PREFIX[self.layer[lot]]}{lot - self.first[self.layer[lot]]:07d}"
            for lot in range(lots)
        ]
        # keccak256("01" ‖ GTIN-14 ‖ "10" ‖ lot code), as `lotlink.gs1.keys.lot_key` computes
        # it, without re-validating the same four GTINs a million times.
        self.keys = [
            "0x" + keccak(f"01{self.gtin(lot)}10{self.lot_code(lot)}".encode()).hex()
            for lot in range(lots)
        ]
        self.glns = [self._gln(actor) for actor in range(self.actors)]
        self.addresses = [_hex(b"actor", actor, 20) for actor in range(self.actors)]

    # Identities ------------------------------------------------------------------------------

    def gtin(self, lot: int) -> str:
        return self.gtins[self.layer[lot]]

    def lot_code(self, lot: int) -> str:
        return self.codes[lot]

    def _gln(self, actor: int) -> str:
        body = f"95{actor:010d}"
        return body + str(check_digit(body))

    # Events ------------------------------------------------------------------------------------

    def _events(self) -> Iterator[_Event]:
        """Every event, layer by layer in time order, each lot's events in its chain order."""
        number = 0

        def at(days: float, lot: int) -> datetime:
            return _START + timedelta(days=days, seconds=lot % 43_200)

        def event(kind: str, lot: int, touched: tuple[tuple[int, int], ...], days: float,
                  place: int, destination: int | None = None) -> _Event:  # fmt: skip
            nonlocal number
            number += 1
            signer = place if kind != "shipped" else self.owner[lot]
            return _Event(number, kind, lot, touched, at(days, lot), place, signer, destination)

        q = self.quantity
        for lot in range(self.first[RAW], self.first[INTERMEDIATE]):
            farm, plant = self.owner[lot], self.ships_to[lot]
            yield event("produced", lot, ((lot, q[lot]),), 0, farm)
            yield event("shipped", lot, ((lot, q[lot]),), 1, farm, plant)
            yield event("received", lot, ((lot, q[lot]),), 2, plant)
        edges = iter(self.edges)
        for layer, days in ((INTERMEDIATE, 3), (FINISHED, 5)):
            for lot in range(self.first[layer], self.first[layer] + self.sizes[layer]):
                inputs = tuple((next(edges)[1:]) for _ in self.parents[lot])
                touched = ((lot, q[lot]), *((p, amount) for p, amount in inputs))
                yield event("transformed", lot, touched, days, self.owner[lot])
        for lot in range(self.first[FINISHED], self.first[RETAIL]):
            plant, distributor = self.owner[lot], self.ships_to[lot]
            yield event("shipped", lot, ((lot, q[lot]),), 6, plant, distributor)
            yield event("received", lot, ((lot, q[lot]),), 7, distributor)
        for lot in range(self.first[RETAIL], self.lots):
            distributor, retailer = self.owner[lot], self.ships_to[lot]
            received = q[lot] - (3000 if lot in self.short and q[lot] > 3000 else 0)
            yield event("shipped", lot, ((lot, q[lot]),), 9, distributor, retailer)
            yield event("received", lot, ((lot, received),), 10, retailer)

    def digest(self, number: int) -> str:
        return _hex(b"event-%d" % self.seed, number)

    def _document(self, e: _Event, event_time: str) -> str:
        """The event as a one-event EPCIS document (compact JSON, the fields the trace reads),
        from a template: json.dumps would cost more than everything else here together."""
        quantities = ",".join(
            _QUANTITY.format(gtin=self.gtin(lot), code=self.lot_code(lot), quantity=amount / 1000,
                             uom=_PRODUCTS[self.layer[lot]][2])
            for lot, amount in e.touched
        )  # fmt: skip
        destinations = (
            ""
            if e.destination is None
            else _DESTINATIONS.format(uri=GLN_URI + self.glns[e.destination])
        )
        return _DOCUMENT.format(
            type="TransformationEvent" if e.kind == "transformed" else "ObjectEvent",
            time=event_time, step=_BIZ_STEP[e.kind], place=GLN_URI + self.glns[e.place],
            quantities=quantities, destinations=destinations,
        )  # fmt: skip

    # Rows ------------------------------------------------------------------------------------

    def tables(self, *, chunk: int = 50_000) -> Iterator[Table]:
        """Every row, table by table and chunk by chunk, parents before children."""
        now = _stamps(_START + timedelta(days=30))[0]
        yield Table(
            "actor",
            ("address", "name", "gln", "custody", "created_at"),
            [
                (self.addresses[a], f"{_ACTOR_KINDS[self._actor_kind(a)]} {a}", self.glns[a],
                 "self", now)
                for a in range(self.actors)
            ],
        )  # fmt: skip
        heads = array("q", [0]) * self.lots
        for e in self._events():
            for lot, _ in e.touched:
                heads[lot] = e.number
        lot_columns = ("lot_key", "gtin", "lot_code", "product_name", "quantity_milli", "unit",
                       "owner_address", "head_digest", "created_at", "block_number",
                       "tx_hash", "log_index")  # fmt: skip
        for start in range(0, self.lots, chunk):
            yield Table(
                "lot",
                lot_columns,
                [
                    (self.keys[lot], self.gtin(lot), self.lot_code(lot),
                     _PRODUCTS[self.layer[lot]][1], self.quantity[lot],
                     _PRODUCTS[self.layer[lot]][2], self.addresses[self.owner[lot]],
                     self.digest(heads[lot]) if heads[lot] else None, now,
                     1 + lot // 100, _hex(b"lot-tx", lot), 0)
                    for lot in range(start, min(start + chunk, self.lots))
                ],
            )  # fmt: skip
        for start in range(0, len(self.edges), chunk):
            yield Table(
                "lineage_edge",
                ("child_key", "parent_key", "quantity_milli", "unit"),
                [
                    (self.keys[child], self.keys[parent], amount,
                     _PRODUCTS[self.layer[parent]][2])
                    for child, parent, amount in self.edges[start : start + chunk]
                ],
            )  # fmt: skip
        yield from self._event_tables(now, chunk)

    def _event_tables(self, now: str, chunk: int) -> Iterator[Table]:
        last: list[str | None] = [None] * self.lots  # each lot's latest event so far
        checkpoints: list[tuple[object, ...]] = []
        links: list[tuple[object, ...]] = []
        receipts: list[tuple[object, ...]] = []

        def flush() -> Iterator[Table]:
            yield Table("checkpoint", _CHECKPOINT_COLUMNS, checkpoints.copy())
            yield Table("checkpoint_lot", _LINK_COLUMNS, links.copy())
            yield Table("anchor_receipt", _RECEIPT_COLUMNS, receipts.copy())
            checkpoints.clear()
            links.clear()
            receipts.clear()

        for e in self._events():
            digest = self.digest(e.number)
            gln = self.glns[e.place]
            stored_time, event_time = _stamps(e.moment)
            checkpoints.append(
                (digest, f"ni:///sha-256;{digest[2:]}?ver=CBV2.0", self._document(e, event_time),
                 "TransformationEvent" if e.kind == "transformed" else "ObjectEvent",
                 e.kind, _BIZ_STEP[e.kind], stored_time, "+00:00", now,
                 GLN_URI + gln, gln, self.keys[e.lot], self.addresses[e.signer], _SIGNATURE,
                 "anchored")
            )  # fmt: skip
            for lot, amount in e.touched:
                links.append(
                    (self.keys[lot], digest, last[lot], amount, _PRODUCTS[self.layer[lot]][2])
                )
                last[lot] = digest
            receipts.append(
                (digest, digest, "[]", digest, _hex(b"record-tx", e.number), 1 + e.number // 100,
                 0, now)
            )  # fmt: skip
            if len(checkpoints) >= chunk:
                yield from flush()
        if checkpoints:
            yield from flush()

    def _actor_kind(self, actor: int) -> int:
        return sum(actor >= first for first in self.actor_first) - 1


_ACTOR_KINDS = ("Farm", "Plant", "Distributor", "Retailer")
_BIZ_STEP = {
    "produced": "commissioning",
    "shipped": "shipping",
    "received": "receiving",
    "transformed": "commissioning",
}
_CHECKPOINT_COLUMNS = ("digest", "event_id", "epcis_json", "event_type", "kind", "biz_step",
                       "event_time", "event_time_offset", "record_time", "biz_location",
                       "location_gln", "primary_lot_key", "signer_address", "signature",
                       "status")  # fmt: skip
_DOCUMENT = (
    '{{"@context":["' + CONTEXT + '"],"type":"EPCISDocument","schemaVersion":"2.0",'
    '"epcisBody":{{"eventList":[{{"type":"{type}","eventTime":"{time}",'
    '"eventTimeZoneOffset":"+00:00","bizStep":"{step}","bizLocation":{{"id":"{place}"}},'
    '"quantityList":[{quantities}]{destinations}}}]}}}}'
)
_QUANTITY = (
    '{{"epcClass":"https://id.gs1.org/01/{gtin}/10/{code}","quantity":{quantity},"uom":"{uom}"}}'
)
_DESTINATIONS = ',"destinationList":[{{"type":"location","destination":"{uri}"}}]'
_LINK_COLUMNS = ("lot_key", "checkpoint_digest", "prev_digest", "quantity_milli", "unit")
_RECEIPT_COLUMNS = ("event_digest", "leaf", "proof", "root", "tx_hash", "block_number",
                    "log_index", "created_at")  # fmt: skip
