"""Certificate watch on real certificates issued on chain and indexed: reminders before a
supplier's qualification expires (once per threshold), and an alert (and a webhook, and a notice
on the lot's scan page) when a lot is shipped while the supplier's or the lot's own certificate
had expired or was revoked, never for a certificate that still held at the shipping time."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak
from sqlalchemy import select

from fixtures.writepath import Party, WritePath, gtin
from lotlink.gs1.digital_link import DigitalLink
from lotlink.models import Actor, Alert, WebhookDelivery
from lotlink.services.certificate_watch import run_watch
from lotlink.services.webhooks import register_endpoint
from lotlink.vocabulary import CertificateKind, Role, SubjectKind
from web.story import anchor_and_index, checkpoint

DAY = 86400
TO = [{"gln": "9521234000006", "type": "location"}]


def issue(
    wp: WritePath, certifier: Party, *, subject: tuple[SubjectKind, bytes], kind: CertificateKind,
    since_days: float, until_days: float,
) -> bytes:  # fmt: skip
    """Issues a certificate on chain valid from `since_days` ago to `until_days` from now."""
    now = wp.world.now()
    document = hashlib.sha256(f"{subject}{kind}{since_days}".encode()).digest()
    issue = (
        subject[0].code, subject[1], kind.code, document,
        int(now - since_days * DAY), int(now + until_days * DAY),
    )  # fmt: skip
    wp.world.relay("issueCertificate", issue, signer=certifier.account)
    return keccak(
        encode(
            ["address", "uint8", "bytes32", "uint8", "bytes32"],
            [certifier.address, *issue[:4]],
        )
    )


def of_actor(party: Party) -> tuple[SubjectKind, bytes]:
    return SubjectKind.ACTOR, bytes(12) + bytes.fromhex(party.address[2:])


def of_lot(lot: dict[str, Any]) -> tuple[SubjectKind, bytes]:
    return SubjectKind.LOT, bytes.fromhex(lot["lot_key"][2:])


def at(days: float, wp: WritePath) -> str:
    moment = datetime.fromtimestamp(wp.world.now() + days * DAY, UTC)
    return moment.isoformat(timespec="milliseconds")


def alerts(wp: WritePath) -> list[Alert]:
    with wp.session() as session:
        return list(
            session.scalars(select(Alert).where(Alert.kind == "certificates").order_by(Alert.id))
        )


@pytest.fixture
def parties(write_path: WritePath) -> dict[str, Party]:
    return {
        "lapsed": write_path.actor(Role.SUPPLIER, name="Lapsed Dairy"),
        "sound": write_path.actor(Role.SUPPLIER, name="Sound Dairy"),
        "certifier": write_path.actor(Role.CERTIFIER, name="Quality Cert Ltd"),
        "carrier": write_path.actor(Role.CARRIER, name="Swift Cold Chain"),
    }


def test_reminders_before_expiry_and_alerts_for_shipping_while_lapsed(
    write_path: WritePath, parties: dict[str, Party]
) -> None:
    wp, certifier, carrier = write_path, parties["certifier"], parties["carrier"]
    lapsed, sound = parties["lapsed"], parties["sound"]
    with wp.session() as session:
        register_endpoint(
            session, session.get_one(Actor, lapsed.address.lower()), url="https://hooks.example/a"
        )
        session.commit()
    # Lapsed Dairy: ISO 9001 valid for 20 more days; its production licence expired 10 days ago.
    iso = issue(wp, certifier, subject=of_actor(lapsed), kind=CertificateKind.ISO9001,
                since_days=400, until_days=20)  # fmt: skip
    issue(wp, certifier, subject=of_actor(lapsed), kind=CertificateKind.PRODUCTION_LICENCE,
          since_days=400, until_days=-10)  # fmt: skip
    # Sound Dairy: an expired licence renewed in time, and a lot whose own certificate of
    # analysis is revoked after its first shipment and before its second.
    issue(wp, certifier, subject=of_actor(sound), kind=CertificateKind.PRODUCTION_LICENCE,
          since_days=800, until_days=-30)  # fmt: skip
    issue(wp, certifier, subject=of_actor(sound), kind=CertificateKind.PRODUCTION_LICENCE,
          since_days=31, until_days=700)  # fmt: skip
    milk = wp.lot(lapsed, gtin(621), "LAPSED-1", product_name="Raw milk")
    cream = wp.lot(sound, gtin(622), "SOUND-1", product_name="Cream")
    coa = issue(wp, certifier, subject=of_lot(cream), kind=CertificateKind.CERTIFICATE_OF_ANALYSIS,
                since_days=30, until_days=300)  # fmt: skip
    checkpoint(wp, carrier, milk, kind="shipped", time=at(-5, wp), destinations=TO)
    checkpoint(wp, carrier, cream, kind="shipped", time=at(-5, wp), destinations=TO)
    wp.world.relay("revokeCertificate", coa, keccak(text="sample failed"), signer=certifier.account)
    checkpoint(
        wp, carrier, cream, kind="shipped", time=at(1 / 24, wp), destinations=TO
    )  # an hour later
    anchor_and_index(wp)

    now = datetime.fromtimestamp(wp.world.now(), UTC)
    with wp.session() as session:
        first = run_watch(session, wp.settings, now=now)
    assert (first.reminders, first.shipments) == (1, 2)
    found = {(a.rule, a.supplier_address): a for a in alerts(wp)}
    reminder = found[("expiry_reminder", lapsed.address.lower())]
    assert reminder.statistic["days_before"] == 30
    assert reminder.statistic["certificate_id"] == "0x" + iso.hex()
    assert "ISO 9001 certificate of Lapsed Dairy expires on" in reminder.reason
    assert "in 19 days" in reminder.reason or "in 20 days" in reminder.reason
    shipped = found[("shipped_while_lapsed", lapsed.address.lower())]
    assert shipped.lot_key == milk["lot_key"]
    assert shipped.reason.startswith("Lot LAPSED-1 was shipped on ")
    assert shipped.reason.endswith("while the supplier's production licence was expired.")
    revoked = found[("shipped_while_lapsed", sound.address.lower())]
    assert revoked.lot_key == cream["lot_key"]
    assert revoked.statistic["state"] == "revoked" and revoked.statistic["about"] == "lot"
    assert revoked.reason.endswith("while this lot's certificate of analysis was revoked.")
    assert len(alerts(wp)) == 3  # the renewed licence and the shipment before revoking: quiet

    with wp.session() as session:  # the watch runs again: nothing twice
        again = run_watch(session, wp.settings, now=now + timedelta(hours=1))
        deliveries = session.scalars(select(WebhookDelivery)).all()
    assert (again.reminders, again.shipments) == (0, 0)
    assert len(deliveries) == 2  # Lapsed Dairy's endpoint: its reminder and its shipment
    assert {d.event_type for d in deliveries} == {"alert.opened"}

    with wp.session() as session:  # two weeks on, the 7-day threshold is crossed
        later = run_watch(session, wp.settings, now=now + timedelta(days=14))
    assert later.reminders == 1
    last = alerts(wp)[-1]
    assert last.rule == "expiry_reminder" and last.statistic["days_before"] == 7

    # The lots' scan pages say it too.
    milk_page = wp.client.get(DigitalLink(gtin=milk["gtin"], lot="LAPSED-1").path).text
    assert "Shipped without a valid certificate" in milk_page
    assert "while the supplier&#39;s production licence was expired." in milk_page
    cream_page = wp.client.get(DigitalLink(gtin=cream["gtin"], lot="SOUND-1").path).text
    assert cream_page.count("while this lot&#39;s certificate of analysis was revoked.") == 1
