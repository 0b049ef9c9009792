"""Accepted events as the submission side writes them: a signed `Checkpoint`, its `CheckpointLot`
and one `Outbox` entry, in one transaction. Signed with the world's actor keys; a custodial
signer's key is put in the service's keystore."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count

from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lotlink.chain.contract import LotlinkContract
from lotlink.chain.typed_data import Authorization, Domain, sign_typed
from lotlink.config import Settings
from lotlink.epcis.event_hash import event_digest
from lotlink.gs1.keys import lot_key
from lotlink.keystore import keystore_path
from lotlink.models import (
    Actor,
    ActorRole,
    Checkpoint,
    CheckpointKind,
    CheckpointLot,
    Custody,
    Lot,
    OutboxEntry,
)
from lotlink.vocabulary import Role

GTIN = "09506000134352"
CONTEXT = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"]
_serials = count(1)
#: The passphrase of keystores `store_custodial_key` writes (LOTLINK_KEYSTORE_PASSWORD).
CUSTODIAL_PASSPHRASE = "test passphrase"


def store_custodial_key(settings: Settings, account: LocalAccount) -> None:
    """Writes `account`'s keystore where the service finds a custodial actor's key, encrypted
    with CUSTODIAL_PASSPHRASE (scrypt at its minimum)."""
    keystore = Account.encrypt(account.key, CUSTODIAL_PASSPHRASE, iterations=2**10)
    path = keystore_path(settings, account.address)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(keystore))


def one_event_document(event: dict[str, object]) -> str:
    """The stored form: a one-event EPCISDocument, compact JSON."""
    document = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T08:00:00.000Z",
        "epcisBody": {"eventList": [event]},
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Submitter:
    """Writes accepted events for one signer on one lot, chaining each after the last."""

    sessions: sessionmaker[Session]
    domain: Domain
    signer: LocalAccount
    role: Role = Role.SUPPLIER
    lot_code: str = "L1"
    custody: Custody = Custody.SELF
    kind: CheckpointKind = CheckpointKind.PRODUCED
    digests: list[str] = field(default_factory=list)

    @property
    def lot_key(self) -> str:
        return "0x" + lot_key(GTIN, self.lot_code).hex()

    def register_lot(self, lotlink: LotlinkContract) -> None:
        """Registers the lot on chain, sent by the signer (a direct record needs a known lot)."""
        lot = (GTIN, self.lot_code, [], [], 5000, "KGM", bytes(32))
        lotlink.transact("registerLot", lot, Authorization.direct().as_tuple(), sender=self.signer)

    def _ensure_rows(self, session: Session) -> None:
        address = self.signer.address.lower()
        if session.get(Actor, address) is None:
            actor = Actor(
                address=address,
                name="Test actor",
                custody=self.custody,
                keystore_path="keystore.json" if self.custody == Custody.CUSTODIAL else None,
            )
            actor.roles.append(ActorRole(role=self.role))
            session.add(actor)
        if session.get(Lot, self.lot_key) is None:
            session.add(
                Lot(
                    lot_key=self.lot_key,
                    gtin=GTIN,
                    lot_code=self.lot_code,
                    quantity_milli=5_000_000,
                    unit="KGM",
                    owner_address=address,
                )
            )

    def accept(self, n: int = 1) -> list[str]:
        """Accept `n` events, each in its own transaction, as the API would."""
        accepted = []
        for _ in range(n):
            serial = next(_serials)
            moment = datetime(2026, 3, 1, 8, 30, tzinfo=UTC) + timedelta(milliseconds=serial)
            event = {
                "type": "ObjectEvent",
                "eventTime": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "eventTimeZoneOffset": "+00:00",
                "epcList": [f"https://id.gs1.org/01/{GTIN}/21/{serial}"],
                "action": "OBSERVE",
                "bizStep": "commissioning",
            }
            digest = event_digest(event, context=CONTEXT)
            key = "0x" + digest.hex()
            message = {
                "eventHash": digest,
                "lotKey": bytes.fromhex(self.lot_key[2:]),
                "kind": self.kind.code,
            }
            signature = sign_typed(self.signer, "Checkpoint", message, self.domain)
            with self.sessions.begin() as session:
                self._ensure_rows(session)
                prev = session.scalar(select(Lot.head_digest).where(Lot.lot_key == self.lot_key))
                checkpoint = Checkpoint(
                    digest=key,
                    event_id=f"ni:///sha-256;{digest.hex()}?ver=CBV2.0",
                    epcis_json=one_event_document(event),
                    event_type="ObjectEvent",
                    kind=self.kind,
                    event_time=moment,
                    event_time_offset="+00:00",
                    primary_lot_key=self.lot_key,
                    signer_address=self.signer.address,
                    signature=signature,
                )
                checkpoint.lots.append(CheckpointLot(lot_key=self.lot_key, prev_digest=prev))
                session.add(checkpoint)
                session.add(OutboxEntry(event_digest=key))
                session.flush()
                session.get_one(Lot, self.lot_key).head_digest = key
            accepted.append(key)
        self.digests += accepted
        return accepted
