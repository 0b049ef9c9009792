"""The demo story of `scripts/serve --demo`: infant formula from two farms' milk, one recalled
after consumers' complaints raise an alert.

Everything is recorded through the same HTTP API a supplier, lab, carrier or regulator would call,
with their own tokens; only creating the actors is an administrator's step (as `lotlink actor add`
is). GS1 company prefix 952 is reserved by GS1 for demonstrations, so no real product is named.

The story: two farms produce raw milk lots; a carrier takes them to a plant, which turns them into
two infant-formula lots (a transformation with the milk consumed from each); an inspector checks
the line, a third-party lab issues a certificate of analysis, a certifier the plant's ISO 9001;
the formula ships to a distributor and on to two retailers. Then parents report sick babies after
feeding one formula lot: the complaint rules raise an alert, which the regulator escalates to a
class I recall in one step. Seeding is done once per `var/`: a second start prints the same links.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
from fpdf import FPDF
from sqlalchemy.orm import Session

from lotlink.config import Settings
from lotlink.gs1.digital_link import DigitalLink
from lotlink.gs1.keys import check_digit, lot_key
from lotlink.labels import qr_png
from lotlink.services.actors import add_actor
from lotlink.services.chain_access import ChainAccess
from lotlink.services.copies import COARSE_LOCATION_HEADER
from lotlink.services.tokens import issue_token
from lotlink.vocabulary import Role

CET = timezone(timedelta(hours=1))


def _gs1(base: str) -> str:
    """A GS1 key with its check digit appended."""
    return base + str(check_digit(base))


MILK = _gs1("0952100000001")
FORMULA = _gs1("0952100000002")


@dataclass(frozen=True, slots=True)
class Cast:
    """Who plays in the story: role, name and GS1 location number."""

    key: str
    role: Role
    name: str
    gln: str


CAST = [
    Cast("farm_a", Role.SUPPLIER, "Green Meadow Dairy", _gs1("952100000101")),
    Cast("farm_b", Role.SUPPLIER, "Hillside Farm", _gs1("952100000102")),
    Cast("plant", Role.SUPPLIER, "Nordic Infant Nutrition, Plant 2", _gs1("952100000201")),
    Cast("inspector", Role.INSPECTOR, "FoodSafe Inspection", _gs1("952100000301")),
    Cast("lab", Role.CERTIFIER, "Certa Labs", _gs1("952100000401")),
    Cast("carrier", Role.CARRIER, "ColdChain Logistics", _gs1("952100000501")),
    Cast("distributor", Role.SUPPLIER, "FreshWay Distribution", _gs1("952100000601")),
    Cast("retail_a", Role.SUPPLIER, "CornerMart, Harbour Street", _gs1("952100000701")),
    Cast("retail_b", Role.SUPPLIER, "CityGrocer, Market Square", _gs1("952100000702")),
    Cast("regulator", Role.REGULATOR, "National Food Safety Authority", _gs1("952100000901")),
]


def _pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF document, as a lab or certifier would upload."""
    pdf = FPDF(unit="mm", format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 12, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for line in lines:
        pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


class _Api:
    """The service's HTTP API, spoken with each actor's token; any refusal stops the story."""

    def __init__(self, base_url: str, tokens: dict[str, str]) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=60)
        self._tokens = tokens

    def post(self, who: str, path: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._tokens[who]}"}
        response = self._client.post(path, headers=headers, **kwargs)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"demo: {who} POST {path} -> {response.status_code} {response.text}")
        result: dict[str, Any] = response.json()
        return result

    def get(self, who: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self._tokens[who]}"}
        response = self._client.get(path, headers=headers, **kwargs)
        if response.status_code != 200:
            raise RuntimeError(f"demo: {who} GET {path} -> {response.status_code} {response.text}")
        return response.json()

    def upload(self, who: str, name: str, content: bytes) -> str:
        self.post(who, "/api/v1/documents", files={"file": (name, content)})
        return hashlib.sha256(content).hexdigest()

    def report(self, link: DigitalLink, **form: str) -> None:
        """A consumer's problem report, sent through the scan page's form (no token)."""
        response = self._client.post("/report", params={"link": link.path}, data=form)
        if response.status_code != 200:
            raise RuntimeError(f"demo: report on {link.path} -> {response.status_code}")


def _time(days_ago: float, hour: int) -> str:
    """An event time in Central European time, on the hour, with exactly three fraction digits."""
    moment = (datetime.now(CET) - timedelta(days=days_ago)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )
    return moment.isoformat(timespec="milliseconds")


def _tell(api: _Api, cast: dict[str, Cast], addresses: dict[str, str]) -> dict[str, int]:
    """Records the story, step by step, through the API; returns the escalated alert and its
    recall."""
    gln = {key: member.gln for key, member in cast.items()}

    def checkpoint(who: str, gtin: str, lot: str, **form: Any) -> None:
        api.post(who, f"/api/v1/lots/{gtin}/{lot}/checkpoints", json=form)

    # Raw milk at two farms.
    for farm, lot, litres in (("farm_a", "FARM-A-1103", 1200), ("farm_b", "FARM-B-1103", 800)):
        api.post(
            farm,
            "/api/v1/lots",
            json={
                "gtin": MILK,
                "lot_code": lot,
                "product_name": "Raw cow's milk",
                "quantity": litres,
                "unit": "LTR",
            },
        )
        checkpoint(
            farm,
            MILK,
            lot,
            kind="produced",
            time=_time(6, 6),
            quantity=litres,
            unit="LTR",
        )
        checkpoint(
            "carrier",
            MILK,
            lot,
            kind="shipped",
            time=_time(6, 9),
            sources=[{"gln": gln[farm]}],
            destinations=[{"gln": gln["plant"]}],
        )
        checkpoint(
            "plant",
            MILK,
            lot,
            kind="received",
            time=_time(6, 14),
            sources=[{"gln": gln[farm]}],
            quantity=litres,
            unit="LTR",
        )

    milk, formula = MILK, FORMULA
    # Two formula lots, each made from both farms' milk.
    for lot, shares in (("IF-2611-A", (700, 500)), ("IF-2611-B", (500, 300))):
        parents = [
            {"gtin": milk, "lot_code": "FARM-A-1103", "quantity": shares[0]},
            {"gtin": milk, "lot_code": "FARM-B-1103", "quantity": shares[1]},
        ]
        api.post(
            "plant",
            "/api/v1/lots",
            json={
                "gtin": formula,
                "lot_code": lot,
                "product_name": "Infant formula, stage 1, 800 g",
                "quantity": 2400,
                "unit": "H87",
                "parents": parents,
            },
        )
        checkpoint(
            "plant",
            formula,
            lot,
            kind="transformed",
            time=_time(5, 10),
            quantity=2400,
            unit="H87",
            inputs=[
                {"gtin": milk, "lot_code": p["lot_code"], "quantity": p["quantity"], "unit": "LTR"}
                for p in parents
            ],
        )

    # The line is inspected, the lab certifies lot A, a certifier the plant's quality system.
    report = api.upload(
        "inspector",
        "inspection-IF-2611.pdf",
        _pdf(
            "Inspection report",
            [
                "Site: Nordic Infant Nutrition, Plant 2",
                "Lines: spray dryer 2, filling line 4",
                "Hygiene, allergen control, metal detection: conformant",
                "Inspector: FoodSafe Inspection",
            ],
        ),
    )
    for lot in ("IF-2611-A", "IF-2611-B"):
        checkpoint(
            "inspector",
            formula,
            lot,
            kind="inspected",
            time=_time(5, 15),
            result="conformant",
            location=gln["plant"],
            documents=[report],
        )
    analysis = api.upload(
        "lab",
        "coa-IF-2611-A.pdf",
        _pdf(
            "Certificate of analysis",
            [
                "Product: infant formula stage 1, lot IF-2611-A",
                "Cronobacter spp.: not detected in 30 x 10 g",
                "Salmonella: not detected in 30 x 25 g",
                "Moisture 2.1 %, protein 11.8 g/100 g: within specification",
                "Laboratory: Certa Labs",
            ],
        ),
    )
    year = (datetime.now(UTC) + timedelta(days=365)).isoformat()
    api.post(
        "lab",
        "/api/v1/certificates",
        json={
            "gtin": formula,
            "lot_code": "IF-2611-A",
            "kind": "certificate_of_analysis",
            "document": analysis,
            "valid_until": year,
        },
    )
    iso = api.upload(
        "lab",
        "iso9001-plant2.pdf",
        _pdf(
            "ISO 9001:2015 certificate",
            [
                "Organisation: Nordic Infant Nutrition, Plant 2",
                "Scope: manufacture of infant formula powders",
                "Certification body: Certa Labs",
            ],
        ),
    )
    api.post(
        "lab",
        "/api/v1/certificates",
        json={
            "actor": addresses["plant"],
            "kind": "iso9001",
            "document": iso,
            "valid_until": (datetime.now(UTC) + timedelta(days=3 * 365)).isoformat(),
        },
    )

    # Out to a distributor and two retailers.
    for lot, retailer in (("IF-2611-A", "retail_a"), ("IF-2611-B", "retail_b")):
        checkpoint(
            "carrier",
            formula,
            lot,
            kind="shipped",
            time=_time(4, 8),
            sources=[{"gln": gln["plant"]}],
            destinations=[{"gln": gln["distributor"]}],
        )
        checkpoint(
            "distributor",
            formula,
            lot,
            kind="received",
            time=_time(4, 16),
            sources=[{"gln": gln["plant"]}],
            quantity=2400,
            unit="H87",
        )
        checkpoint(
            "distributor",
            formula,
            lot,
            kind="shipped",
            time=_time(2, 7),
            destinations=[{"gln": gln[retailer]}],
            quantity=600,
            unit="H87",
        )
        checkpoint(
            retailer,
            formula,
            lot,
            kind="received",
            time=_time(2, 11),
            sources=[{"gln": gln["distributor"]}],
            quantity=600,
            unit="H87",
        )

    # Parents report sick babies after feeding lot B, within hours of each other: far above
    # the formula's complaint rate, so the rules raise alerts for the plant and the authority.
    lot_b = DigitalLink(gtin=formula, lot="IF-2611-B")
    for text in (
        "My baby vomited and had a fever after two feeds from a new tin.",
        "Our daughter was admitted to hospital with diarrhoea; we used this tin all week.",
        "Baby refused the bottle, then was sick; the powder smelled sour.",
        "Twins both unwell after switching to this tin yesterday.",
    ):
        api.report(lot_b, category="illness_or_injury", description=text)
    # The authority looks at the alert and escalates it: the recall is issued on chain from it.
    key_b = "0x" + lot_key(formula, "IF-2611-B").hex()
    alerts = api.get("regulator", "/api/v1/alerts", params={"kind": "complaints", "lot": key_b})
    rate = next(alert for alert in alerts if alert["rule"] == "poisson_rate")
    escalated = api.post(
        "regulator",
        f"/api/v1/alerts/{rate['id']}/escalate",
        json={
            "recall_class": 1,
            "reason": "Infants fell ill after feeding lot IF-2611-B; Cronobacter sakazakii "
            "suspected.",
            "consumer_instructions": "Do not feed this formula to infants. Return the tin to the "
            "shop for a full refund. If your baby is unwell, contact a doctor.",
            "trade_instructions": "Withdraw lot IF-2611-B from sale, quarantine stock, and report "
            "quantities held to the authority within 24 hours.",
        },
    )
    for other in alerts:
        if other["id"] != rate["id"]:
            note = f"The same cluster as alert {rate['id']}, escalated to recall "
            api.post("regulator", f"/api/v1/alerts/{other['id']}/close",
                     json={"note": note + str(escalated["recall_id"])})  # fmt: skip
    return {"alert": rate["id"], "recall": escalated["recall_id"]}


def _copy_a_code(api: _Api, base_url: str, link: DigitalLink) -> None:
    """One serial's label, copied: scanned in Paris and, a moment later, in Lyon (the places a
    scanning app would send, rounded by the service). Waits for the service to flag it (scans are
    written and judged in batches)."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for place in ("48.8566,2.3522", "45.7640,4.8357"):
            client.get(link.path, headers={COARSE_LOCATION_HEADER: place}).raise_for_status()
    deadline = time.monotonic() + 30
    while not api.get("plant", "/api/v1/alerts", params={"kind": "copies"}):
        if time.monotonic() > deadline:
            raise RuntimeError(f"demo: the copied code {link.path} was not flagged")
        time.sleep(0.2)


def seed_demo(
    settings: Settings,
    *,
    base_url: str,
    sessions: Callable[[], Session],
    chain: ChainAccess,
) -> dict[str, Any]:
    """Seeds the story once (recorded in var/demo/demo.json) and returns what to show."""
    record_file = settings.var_dir / "demo" / "demo.json"
    if record_file.is_file():
        record: dict[str, Any] = json.loads(record_file.read_text())
        return record
    tokens: dict[str, str] = {}
    addresses: dict[str, str] = {}
    with sessions() as session:
        for member in CAST:
            created = add_actor(session, chain, role=member.role, gln=member.gln, name=member.name)
            tokens[member.key] = issue_token(session, created.actor, label="demo").secret
            addresses[member.key] = created.actor.address
    api = _Api(base_url, tokens)
    escalation = _tell(api, {member.key: member for member in CAST}, addresses)
    copied = DigitalLink(gtin=FORMULA, lot="IF-2611-A", serial="A-000417")
    _copy_a_code(api, base_url, copied)
    formula = FORMULA
    milk = MILK
    links = {
        "formula lot IF-2611-A (normal)": DigitalLink(gtin=formula, lot="IF-2611-A"),
        "formula lot IF-2611-B (recalled)": DigitalLink(gtin=formula, lot="IF-2611-B"),
        "raw milk lot FARM-A-1103 (a source)": DigitalLink(gtin=milk, lot="FARM-A-1103"),
        "copied code (IF-2611-A serial A-000417, scanned in Paris and Lyon at once)": copied,
    }
    out = record_file.parent
    out.mkdir(parents=True, exist_ok=True)
    scans = {}
    for name, link in links.items():
        uri = link.uri(settings.public_base_url)
        qr = out / f"qr-{link.lot}{'' if link.serial is None else '-' + link.serial}.png"
        qr.write_bytes(qr_png(uri))
        scans[name] = {"url": uri, "qr": str(qr)}
    record = {
        "scans": scans,
        "escalation": escalation,
        "tokens": tokens,
        "seeded_at": time.time(),
    }
    record_file.write_text(json.dumps(record, indent=2) + "\n")
    record_file.chmod(0o600)  # holds the demo actors' API tokens
    return record


def describe(record: dict[str, Any], *, base_url: str) -> str:
    """What `scripts/serve --demo` prints once the story is recorded; pages under `base_url`
    (the public base URL, as in the scan links)."""
    base = base_url.rstrip("/")
    lines = ["demo story recorded; scan these (QR images beside each):"]
    for name, scan in record["scans"].items():
        lines.append(f"  {name}: {scan['url']}\n    QR: {scan['qr']}")
    if "escalation" in record:
        alert, recall = record["escalation"]["alert"], record["escalation"]["recall"]
        lines.append(
            f"complaints about IF-2611-B raised alert {alert}, escalated to recall {recall}: "
            f"{base}/alerts/{alert} (sign in with the regulator's token)"
        )
        lines.append(f"  recall {recall} (what it reaches, its evidence): {base}/recalls/{recall}")
    lines.append(f"public recall list: {base}/recalls")
    lines.append("demo API tokens: var/demo/demo.json")
    return "\n".join(lines)
