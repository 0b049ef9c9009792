"""A product's lots on the market, built as rows the way the index holds them: lots, their
shipping checkpoints (quantities per place) and consumers' problem reports at chosen times."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy.orm import Session

from lotlink.config import Settings
from lotlink.models import (
    Actor,
    ActorRole,
    Checkpoint,
    CheckpointKind,
    CheckpointLot,
    Lot,
    ProblemReport,
    ReportCategory,
    Role,
)
from lotlink.services.deadlines import deadlines_for

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
_n = count(1)


def h32(label: str) -> str:
    return "0x" + hashlib.sha256(label.encode()).hexdigest()


@dataclass
class Market:
    """One supplier's product (a GTIN) and its lots; `lots` maps lot codes to lot keys."""

    session: Session
    settings: Settings
    gtin: str = "09521000000027"
    supplier: str = "0x" + "5a" * 20
    carrier: str = "0x" + "ca" * 20
    lots: dict[str, str] = field(default_factory=dict)
    _heads: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for address, role, gln in (
            (self.supplier, Role.SUPPLIER, "9521000000011"),
            (self.carrier, Role.CARRIER, "9521000000028"),
        ):
            if self.session.get(Actor, address) is None:
                actor = Actor(address=address, name=f"{role.value} {address[:6]}", gln=gln)
                actor.roles.append(ActorRole(role=role))
                self.session.add(actor)
        self.session.flush()

    def lot(self, code: str, *, units: int, unit: str = "H87", gtin: str | None = None) -> str:
        product = gtin or self.gtin
        key = h32(f"lot:{product}:{code}")
        self.session.add(
            Lot(
                lot_key=key,
                gtin=product,
                lot_code=code,
                product_name="Infant formula 800 g",
                quantity_milli=units * 1000,
                unit=unit,
                owner_address=self.supplier,
            )
        )
        self.session.flush()
        self.lots[code] = key
        self._heads[key] = None
        return key

    def ship(self, code: str, *, units: int | None, place: str, unit: str = "H87") -> None:
        """A shipped checkpoint of lot `code` from GLN `place`; None: no quantity named."""
        key = self.lots[code]
        digest = h32(f"event:{next(_n)}")
        checkpoint = Checkpoint(
            digest=digest,
            event_id=f"ni:///sha-256;{digest[2:]}?ver=CBV2.0",
            epcis_json=json.dumps({"label": digest}),
            event_type="ObjectEvent",
            kind=CheckpointKind.SHIPPED,
            event_time=NOW - timedelta(days=40),
            event_time_offset="+01:00",
            location_gln=place,
            primary_lot_key=key,
            signer_address=self.carrier,
            signature="0x" + "ab" * 65,
        )
        checkpoint.lots.append(
            CheckpointLot(
                lot_key=key,
                prev_digest=self._heads[key],
                quantity_milli=None if units is None else units * 1000,
                unit=None if units is None else unit,
            )
        )
        self._heads[key] = digest
        self.session.add(checkpoint)
        self.session.flush()

    def complaints(
        self,
        code: str,
        times: list[datetime],
        *,
        category: ReportCategory = ReportCategory.QUALITY_DEFECT,
    ) -> None:
        for moment in times:
            due = deadlines_for(moment, self.settings)
            self.session.add(
                ProblemReport(
                    reference=f"PR-T{next(_n):07d}",
                    lot_key=self.lots[code],
                    category=category,
                    description="The powder is lumpy and smells off",
                    created_at=moment,
                    received_at=moment,
                    first_response_due_at=due.first_response_due_at,
                    resolution_due_at=due.resolution_due_at,
                )
            )
        self.session.flush()


def spread(n: int, *, days: float, end: datetime = NOW) -> list[datetime]:
    """`n` instants evenly over the `days` before `end` (the last one at least a day before)."""
    if n == 0:
        return []
    step = timedelta(days=days) / n
    return [end - timedelta(days=1) - step * i for i in range(n)]
