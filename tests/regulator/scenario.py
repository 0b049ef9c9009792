"""A multi-hop supply chain written through the API and anchored: raw milk and sugar → two
intermediate bases → two finished tin lots → shipments to three retailers.

Quantities (registered lineage, in each parent's unit) are chosen for hand-computed shares of
the milk lot: BASE-1 took 600 of its 1,000 LTR (0.6), BASE-2 400 (0.4); TIN-A took 400 of
BASE-1's 800 kg (0.6 * 0.5 = 0.3); TIN-B took 200 of BASE-1 (0.6 * 0.25 = 0.15) and all 300 of
BASE-2 (0.4 * 1 = 0.4), 0.55 in all. TIN-A ships 600 tins to retailer 1 (all received) and 400
to retailer 2 (390 received); TIN-B ships 500 to retailer 3 (all received).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fixtures.writepath import Party, WritePath, gtin
from lotlink.anchoring.anchorer import Anchorer
from lotlink.models import Actor
from lotlink.vocabulary import Role

MILK, SUGAR, BASE, TIN = gtin(601), gtin(602), gtin(603), gtin(604)


@dataclass
class Scenario:
    parties: dict[str, Party] = field(default_factory=dict)
    glns: dict[str, str] = field(default_factory=dict)
    lots: dict[str, dict[str, Any]] = field(default_factory=dict)
    digests: dict[str, list[str]] = field(default_factory=dict)

    def key(self, name: str) -> str:
        key: str = self.lots[name]["lot_key"]
        return key


def checkpoint(wp: WritePath, party: Party, lot: dict[str, Any], **form: Any) -> str:
    response = wp.client.post(
        f"/api/v1/lots/{lot['lot_key']}/checkpoints", json=form, headers=party.headers
    )
    assert response.status_code == 201, response.text
    digest: str = response.json()["digest"]
    return digest


def anchor(wp: WritePath) -> None:
    """Anchors every accepted event now, through the app's relayer (one nonce sequence)."""
    engine = wp.sessions.kw["bind"]
    Anchorer.from_settings(wp.settings, engine=engine, relayer=wp.chain.relayer).drain()


def _parent(lot: dict[str, Any], quantity: float) -> dict[str, Any]:
    return {"gtin": lot["gtin"], "lot_code": lot["lot_code"], "quantity": quantity}


def _input(lot: dict[str, Any], quantity: float, unit: str) -> dict[str, Any]:
    return {"gtin": lot["gtin"], "lot_code": lot["lot_code"], "quantity": quantity, "unit": unit}


def write_scenario(wp: WritePath) -> Scenario:
    s = Scenario()
    names = {
        "farm": (Role.SUPPLIER, "Green Valley Farm"),
        "mill": (Role.SUPPLIER, "Sweet Mill"),
        "plant": (Role.SUPPLIER, "Alpine Nutrition Plant"),
        "retailer1": (Role.SUPPLIER, "Corner Shop"),
        "retailer2": (Role.SUPPLIER, "Hypermarket"),
        "retailer3": (Role.SUPPLIER, "Pharmacy"),
        "regulator": (Role.REGULATOR, "Food Safety Authority"),
    }
    s.parties = {key: wp.actor(role, name=name) for key, (role, name) in names.items()}
    with wp.session() as session:
        for key, party in s.parties.items():
            actor = session.get(Actor, party.address.lower())
            assert actor is not None and actor.gln is not None
            s.glns[key] = actor.gln
    farm, mill, plant = s.parties["farm"], s.parties["mill"], s.parties["plant"]
    lots = s.lots
    lots["milk"] = wp.lot(farm, MILK, "MILK-1", quantity=1000, unit="LTR", product_name="Milk")
    lots["sugar"] = wp.lot(mill, SUGAR, "SUGAR-1", quantity=500, unit="KGM", product_name="Sugar")
    lots["base1"] = wp.lot(
        plant, BASE, "BASE-1", quantity=800, unit="KGM", product_name="Formula base",
        parents=[_parent(lots["milk"], 600), _parent(lots["sugar"], 100)],
    )  # fmt: skip
    lots["base2"] = wp.lot(
        plant, BASE, "BASE-2", quantity=300, unit="KGM", product_name="Formula base",
        parents=[_parent(lots["milk"], 400)],
    )  # fmt: skip
    lots["tin_a"] = wp.lot(
        plant, TIN, "TIN-A", quantity=1000, unit="H87", product_name="Infant formula 800 g",
        parents=[_parent(lots["base1"], 400)],
    )  # fmt: skip
    lots["tin_b"] = wp.lot(
        plant, TIN, "TIN-B", quantity=500, unit="H87", product_name="Infant formula 800 g",
        parents=[_parent(lots["base1"], 200), _parent(lots["base2"], 300)],
    )  # fmt: skip
    day = "2026-03-0{}T08:00:00.000+01:00"
    d = s.digests
    d["milk"] = [checkpoint(wp, farm, lots["milk"], kind="produced", time=day.format(1))]
    d["sugar"] = [checkpoint(wp, mill, lots["sugar"], kind="produced", time=day.format(1))]
    d["base1"] = [
        checkpoint(wp, plant, lots["base1"], kind="transformed", time=day.format(2),
                   quantity=800, unit="KGM",
                   inputs=[_input(lots["milk"], 600, "LTR"), _input(lots["sugar"], 100, "KGM")])
    ]  # fmt: skip
    d["base2"] = [
        checkpoint(wp, plant, lots["base2"], kind="transformed", time=day.format(2),
                   quantity=300, unit="KGM", inputs=[_input(lots["milk"], 400, "LTR")])
    ]  # fmt: skip
    d["tin_a"] = [
        checkpoint(wp, plant, lots["tin_a"], kind="transformed", time=day.format(3),
                   quantity=1000, unit="H87", inputs=[_input(lots["base1"], 400, "KGM")])
    ]  # fmt: skip
    d["tin_b"] = [
        checkpoint(wp, plant, lots["tin_b"], kind="transformed", time=day.format(3),
                   quantity=500, unit="H87",
                   inputs=[_input(lots["base1"], 200, "KGM"), _input(lots["base2"], 300, "KGM")])
    ]  # fmt: skip
    for lot, retailer, shipped, received in (
        ("tin_a", "retailer1", 600, 600),
        ("tin_a", "retailer2", 400, 390),
        ("tin_b", "retailer3", 500, 500),
    ):
        d[lot].append(
            checkpoint(wp, plant, lots[lot], kind="shipped", time=day.format(4),
                       quantity=shipped, unit="H87",
                       destinations=[{"gln": s.glns[retailer], "type": "location"}])
        )  # fmt: skip
        d[lot].append(
            checkpoint(wp, s.parties[retailer], lots[lot], kind="received", time=day.format(5),
                       quantity=received, unit="H87",
                       sources=[{"gln": s.glns["plant"], "type": "location"}])
        )  # fmt: skip
    anchor(wp)
    return s
