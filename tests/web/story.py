"""A small supply chain written the way its actors write it (the API; recalls and certificates
straight on chain, as their API is not there yet), anchored and indexed: farm milk → formula
(transformation) → inspected, shipped, received; a certificate of analysis; a second formula
lot later recalled through its milk; a third lot whose stored event is edited in SQL."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak
from sqlalchemy import update

from fixtures.indexing import index_to_head
from fixtures.writepath import Party, WritePath, gtin
from lotlink.anchoring.anchorer import Anchorer
from lotlink.gs1.digital_link import DigitalLink
from lotlink.models import Checkpoint, Recall
from lotlink.vocabulary import CertificateKind, Role, SubjectKind

MILK, FORMULA = gtin(501), gtin(502)
PDF = b"%PDF-1.4\n% Lotlink test certificate of analysis\n%%EOF\n"


@dataclass
class Story:
    """What `write_story` made: parties, lots (their API bodies) and the scan paths."""

    parties: dict[str, Party] = field(default_factory=dict)
    lots: dict[str, dict[str, Any]] = field(default_factory=dict)
    digests: dict[str, list[str]] = field(default_factory=dict)

    def path(self, name: str) -> str:
        lot = self.lots[name]
        return DigitalLink(gtin=lot["gtin"], lot=lot["lot_code"]).path


def checkpoint(wp: WritePath, party: Party, lot: dict[str, Any], **form: Any) -> str:
    url = f"/api/v1/lots/{lot['lot_key']}/checkpoints"
    response = wp.client.post(url, json=form, headers=party.headers)
    assert response.status_code == 201, response.text
    digest: str = response.json()["digest"]
    return digest


def anchor_and_index(wp: WritePath) -> None:
    """Anchors every accepted event now and indexes the chain up to its head."""
    engine = wp.sessions.kw["bind"]
    Anchorer.from_settings(wp.settings, engine=engine, relayer=wp.chain.relayer).drain()
    index_to_head(wp.settings, engine)


def write_story(wp: WritePath) -> Story:
    story = Story()
    farm = wp.actor(Role.SUPPLIER, name="Green Valley Farm")
    plant = wp.actor(Role.SUPPLIER, name="Alpine Nutrition Plant")
    lab = wp.actor(Role.INSPECTOR, name="Independent Food Lab")
    carrier = wp.actor(Role.CARRIER, name="Swift Cold Chain")
    regulator = wp.actor(Role.REGULATOR, name="Food Safety Authority")
    certifier = wp.actor(Role.CERTIFIER, name="Quality Cert Ltd")
    story.parties = {
        "farm": farm, "plant": plant, "lab": lab, "carrier": carrier,
        "regulator": regulator, "certifier": certifier,
    }  # fmt: skip

    milk = wp.lot(farm, MILK, "MILK-A1", product_name="Raw cow's milk", quantity=5000, unit="LTR")
    milk_b = wp.lot(farm, MILK, "MILK-B2", product_name="Raw cow's milk", quantity=5000, unit="LTR")
    lots = {"milk": milk, "milk_b": milk_b}
    for name, source in (("normal", milk), ("recalled", milk_b), ("tampered", milk)):
        lots[name] = wp.lot(
            plant,
            FORMULA,
            f"F-{name.upper()[:8]}",
            product_name="Infant formula 800 g",
            quantity=1200,
            unit="H87",
            parents=[{"gtin": source["gtin"], "lot_code": source["lot_code"], "quantity": 1000}],
        )
    story.lots = lots
    for name in ("milk", "milk_b"):
        story.digests[name] = [
            checkpoint(wp, farm, lots[name], kind="produced", time="2026-03-01T06:00:00.000+01:00")
        ]
    for name in ("normal", "recalled", "tampered"):
        lot, source = lots[name], lots["milk_b" if name == "recalled" else "milk"]
        inputs = [
            {
                "gtin": source["gtin"],
                "lot_code": source["lot_code"],
                "quantity": 1000,
                "unit": "LTR",
            }
        ]
        story.digests[name] = [
            checkpoint(wp, plant, lot, kind="transformed", time="2026-03-02T08:00:00.000+01:00",
                       inputs=inputs, quantity=1200, unit="H87"),
            checkpoint(wp, lab, lot, kind="inspected", result="conformant",
                       time="2026-03-03T10:15:00.000+01:00"),
            checkpoint(wp, carrier, lot, kind="shipped", time="2026-03-04T07:30:00.000+01:00",
                       destinations=[{"gln": "9521234000006", "type": "location"}]),
            checkpoint(wp, carrier, lot, kind="received", time="2026-03-05T16:45:00.000-05:00"),
        ]  # fmt: skip

    # A certificate of analysis for the normal lot: the document through the API, the
    # certificate on chain, signed by the certifier and relayed.
    upload = wp.client.post(
        "/api/v1/documents",
        files={"file": ("coa.pdf", PDF, "application/pdf")},
        headers=certifier.headers,
    )
    assert upload.status_code in (200, 201), upload.text
    now = wp.world.now()
    certificate = (
        SubjectKind.LOT.code,
        bytes.fromhex(lots["normal"]["lot_key"][2:]),
        CertificateKind.CERTIFICATE_OF_ANALYSIS.code,
        hashlib.sha256(PDF).digest(),
        now - 3600,
        now + 365 * 86400,
    )
    wp.world.relay("issueCertificate", certificate, signer=certifier.account)
    # The regulator recalls milk lot B; formula lot "recalled" inherits it.
    wp.world.relay(
        "issueRecall",
        [bytes.fromhex(milk_b["lot_key"][2:])],
        1,
        keccak(text="Salmonella found in a retained sample"),
        signer=regulator.account,
    )
    anchor_and_index(wp)
    with wp.sessions.begin() as session:  # the recall's words, which the chain holds as a hash
        session.execute(
            update(Recall).values(
                reason="Salmonella found in a retained sample of the milk.",
                instructions_consumer="Do not feed it to a baby. Return it to the shop for a "
                "full refund.",
            )
        )
    return story


def tamper(wp: WritePath, digest: str) -> None:
    """Edits a stored event in SQL, the way someone with database access could."""
    with wp.sessions.begin() as session:
        row = session.get(Checkpoint, digest)
        assert row is not None
        row.epcis_json = row.epcis_json.replace('"conformant"', '"non_conformant"', 1).replace(
            "10:15:00", "11:15:00", 1
        )
