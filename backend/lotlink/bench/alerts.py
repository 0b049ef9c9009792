"""`lotlink bench alerts`: what the complaint rules cost and how they behave on a synthetic
market, on SQLite.

`products` GTINs with `lots` lots each (sizes drawn log-normally around 5,000 units), each lot
shipped from a plant and on from a distributor (two `shipped` checkpoints), and consumers'
complaints drawn from a Poisson law at the product's normal rate (1 per 10,000 units) over the
last 30 days; `bad` lots per product complain at ten times that rate. Rows go straight into the
tables: the rules read the index alone, no chain is involved.

Measured: the evaluation a report's arrival runs (`evaluate_lot` and its commit, as
`create_report` does), the periodic sweep over every product, and what the rules found: the bad
lots flagged, and the normal lots flagged by chance (the per-lot false-alarm rate that
`alert_p_value` sets).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scipy.stats import poisson
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from lotlink.config import Settings
from lotlink.db import make_engine, upgrade_database
from lotlink.db.engine import make_session_factory
from lotlink.models import (
    Actor,
    ActorRole,
    Alert,
    Checkpoint,
    CheckpointKind,
    CheckpointLot,
    CheckpointStatus,
    Lot,
    ProblemReport,
    ReportCategory,
    Role,
)
from lotlink.services.complaint_alerts import evaluate_lot, sweep
from lotlink.services.deadlines import deadlines_for

NORMAL_RATE = 1e-4
BAD_FACTOR = 10
OWNER = "0x" + "5a" * 20


@dataclass(frozen=True, slots=True)
class AlertFigures:
    products: int
    lots: int
    shipments: int
    complaints: int
    generated_seconds: float
    arrivals: int
    arrival_median_ms: float
    arrival_p90_ms: float
    sweep_seconds: float
    bad_lots: int
    bad_flagged: int
    normal_lots: int
    normal_flagged: int


def _h32(label: str) -> str:
    return "0x" + hashlib.sha256(label.encode()).hexdigest()


def _generate(
    sessions: sessionmaker[Session],
    *,
    products: int,
    lots: int,
    bad: int,
    now: datetime,
    seed: int,
) -> tuple[list[str], set[str], int, int]:
    """Fills the tables; returns the lot keys, the bad ones, shipments and complaints made."""
    rng = random.Random(seed)
    settings = Settings()
    lot_rows: list[dict[str, object]] = []
    checkpoint_rows: list[dict[str, object]] = []
    link_rows: list[dict[str, object]] = []
    report_rows: list[dict[str, object]] = []
    keys: list[str] = []
    bad_keys: set[str] = set()
    for p in range(products):
        gtin = f"0952100{p:06d}0"
        for i in range(lots):
            key = _h32(f"lot:{gtin}:{i}")
            units = int(max(100, rng.lognormvariate(math.log(5_000), 0.6)))
            keys.append(key)
            lot_rows.append(
                {
                    "lot_key": key,
                    "gtin": gtin,
                    "lot_code": f"L{i:06d}",
                    "product_name": f"Product {p}",
                    "quantity_milli": units * 1000,
                    "unit": "H87",
                    "owner_address": OWNER,
                }
            )
            previous = None
            for leg, (place, share) in enumerate((("9521000000035", 1.0), ("9521000000042", 0.6))):
                digest = _h32(f"event:{key}:{leg}")
                checkpoint_rows.append(
                    {
                        "digest": digest,
                        "event_id": f"ni:///sha-256;{digest[2:]}?ver=CBV2.0",
                        "epcis_json": json.dumps({"bench": digest}),
                        "event_type": "ObjectEvent",
                        "kind": CheckpointKind.SHIPPED,
                        "event_time": now - timedelta(days=35 - leg),
                        "event_time_offset": "+01:00",
                        "location_gln": place,
                        "primary_lot_key": key,
                        "signer_address": OWNER,
                        "signature": "0x" + "ab" * 65,
                        "status": CheckpointStatus.ANCHORED,
                    }
                )
                link_rows.append(
                    {
                        "lot_key": key,
                        "checkpoint_digest": digest,
                        "prev_digest": previous,
                        "quantity_milli": int(units * share) * 1000,
                        "unit": "H87",
                    }
                )
                previous = digest
            is_bad = i < bad
            if is_bad:
                bad_keys.add(key)
            rate = NORMAL_RATE * (BAD_FACTOR if is_bad else 1)
            for _ in range(int(poisson.ppf(rng.random(), rate * units))):
                received = now - timedelta(seconds=rng.uniform(3600, 30 * 86400))
                due = deadlines_for(received, settings)
                report_rows.append(
                    {
                        "reference": f"PR-B{len(report_rows):07d}",
                        "lot_key": key,
                        "category": ReportCategory.QUALITY_DEFECT,
                        "description": "bench",
                        "created_at": received,
                        "received_at": received,
                        "first_response_due_at": due.first_response_due_at,
                        "resolution_due_at": due.resolution_due_at,
                    }
                )
    with sessions() as session:
        actor = Actor(address=OWNER, name="Bench supplier", gln="9521000000011")
        actor.roles.append(ActorRole(role=Role.SUPPLIER))
        session.add(actor)
        session.flush()
        for model, rows in (
            (Lot, lot_rows),
            (Checkpoint, checkpoint_rows),
            (CheckpointLot, link_rows),
            (ProblemReport, report_rows),
        ):
            for start in range(0, len(rows), 5_000):
                session.execute(insert(model), rows[start : start + 5_000])
        session.commit()
    return keys, bad_keys, len(checkpoint_rows), len(report_rows)


def measure_alerts(
    *, products: int, lots: int, bad: int, arrivals: int, seed: int = 7
) -> AlertFigures:
    """Generates the market in a fresh SQLite file, then times arrivals and a sweep."""
    settings = Settings()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="lotlink-bench-alerts-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade_database(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        try:
            started = time.perf_counter()
            keys, bad_keys, shipments, complaints = _generate(
                sessions, products=products, lots=lots, bad=bad, now=now, seed=seed
            )
            generated = time.perf_counter() - started

            began = time.perf_counter()
            with sessions() as session:
                sweep(session, settings, now=now)
            sweep_seconds = time.perf_counter() - began
            with sessions() as session:
                flagged = set(
                    session.scalars(select(Alert.lot_key).where(Alert.rule == "poisson_rate"))
                )

            # Arrivals: one more report about a random lot, evaluated as the form does.
            picker = random.Random(seed)
            timings = []
            for n in range(arrivals):
                key = picker.choice(keys)
                with sessions() as session:
                    due = deadlines_for(now, settings)
                    session.add(
                        ProblemReport(
                            reference=f"PR-A{n:07d}",
                            lot_key=key,
                            category=ReportCategory.QUALITY_DEFECT,
                            description="bench arrival",
                            created_at=now,
                            received_at=now,
                            first_response_due_at=due.first_response_due_at,
                            resolution_due_at=due.resolution_due_at,
                        )
                    )
                    session.commit()
                    began = time.perf_counter()
                    evaluate_lot(session, settings, key, now=now)
                    session.commit()
                    timings.append((time.perf_counter() - began) * 1000)
        finally:
            engine.dispose()
    timings.sort()
    return AlertFigures(
        products=products,
        lots=len(keys),
        shipments=shipments,
        complaints=complaints,
        generated_seconds=generated,
        arrivals=arrivals,
        arrival_median_ms=statistics.median(timings),
        arrival_p90_ms=timings[int(0.9 * (len(timings) - 1))],
        sweep_seconds=sweep_seconds,
        bad_lots=len(bad_keys),
        bad_flagged=len(flagged & bad_keys),
        normal_lots=len(keys) - len(bad_keys),
        normal_flagged=len(flagged - bad_keys),
    )
