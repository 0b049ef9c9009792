"""`lotlink bench verify`: `lotlink verify` on an evidence bundle of `events` events.

On a fresh managed anvil and SQLite database, through the API: a farm registers a raw milk lot;
a plant makes `lots` formula lots from it (each registered on chain with the milk as parent, and
transformed); each formula lot then ships to a retailer and is received there, over and over,
until the lots hold `events` events in all. The anchorer anchors them in Merkle batches and the
indexer follows the chain, as in the service. The milk lot's evidence bundle
(``GET /api/v1/lots/{key}/evidence``) then holds every one of those events, and
`verify_bundle` (what `lotlink verify` runs) checks it against the chain through the JSON-RPC
endpoint alone, `repeat` times.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from web3 import HTTPProvider, Web3

from lotlink.anchoring.anchorer import Anchorer
from lotlink.bench.harness import fresh_stack_settings
from lotlink.db.engine import make_engine
from lotlink.gs1.keys import check_digit
from lotlink.indexer.service import make_follower
from lotlink.main import create_app
from lotlink.runtime import prepare
from lotlink.services.actors import add_actor
from lotlink.services.tokens import issue_token
from lotlink.verify_bundle import verify_bundle
from lotlink.vocabulary import Role


@dataclass(frozen=True, slots=True)
class VerifyFigures:
    events: int
    lots: int
    batches: int
    checks: int
    failures: int
    bundle_bytes: int
    seed_seconds: float
    verify_seconds: list[float]

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.verify_seconds)


def _gtin(n: int) -> str:
    body = f"0952124{n:06d}"
    return body + str(check_digit(body))


def _gln(n: int) -> str:
    body = f"952124499{n:03d}"
    return body + str(check_digit(body))


def _post(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    response = client.post(path, json=body, headers=headers)
    if response.status_code not in (200, 201):
        raise RuntimeError(f"seeding failed at {path}: {response.text}")
    return response.json()


def _seed(client: TestClient, *, events: int, lots: int) -> str:
    """Writes the story through the API; returns the milk lot's key."""
    chain = client.app.state.chain  # type: ignore[attr-defined]
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    headers = {}
    for n, name in enumerate(("Green Valley Farm", "Alpine Nutrition Plant", "Corner Shop"), 1):
        with sessions() as session:
            actor = add_actor(session, chain, role=Role.SUPPLIER, gln=_gln(n), name=name).actor
            token = issue_token(session, actor, label="bench")
        headers[name] = {"Authorization": f"Bearer {token.secret}"}
    farm, plant, shop = headers.values()
    milk = {"gtin": _gtin(1), "lot_code": "MILK-1", "product_name": "Raw milk",
            "quantity": 10 * lots, "unit": "LTR"}  # fmt: skip
    milk_key = _post(client, "/api/v1/lots", milk, farm)["lot_key"]
    formula = []
    parent = {"gtin": milk["gtin"], "lot_code": milk["lot_code"], "quantity": 10}
    for i in range(lots):
        body = {"gtin": _gtin(2), "lot_code": f"FORMULA-{i:04d}", "quantity": 100, "unit": "KGM",
                "product_name": "Formula base", "parents": [parent]}  # fmt: skip
        key = _post(client, "/api/v1/lots", body, plant)["lot_key"]
        form = {"kind": "transformed", "time": "2026-03-02T08:00:00.000+01:00", "quantity": 100,
                "unit": "KGM", "inputs": [{**parent, "unit": "LTR"}]}  # fmt: skip
        _post(client, f"/api/v1/lots/{key}/checkpoints", form, plant)
        formula.append(key)
    written = lots  # the transformations (each an event of its formula lot and of the milk)
    day = 0
    while written < events:
        day += 1
        moment = f"2026-03-{3 + day // 24:02d}T{day % 24:02d}:00:00.000+01:00"
        for key in formula:
            if written >= events:
                break
            shipped = {"kind": "shipped", "time": moment, "quantity": 1, "unit": "KGM",
                       "destinations": [{"gln": _gln(3), "type": "location"}]}  # fmt: skip
            received = {"kind": "received", "time": moment, "quantity": 1, "unit": "KGM"}
            _post(client, f"/api/v1/lots/{key}/checkpoints", shipped, plant)
            _post(client, f"/api/v1/lots/{key}/checkpoints", received, shop)
            written += 2
    return str(milk_key)


def measure_verify(*, events: int = 10_000, lots: int = 200, repeat: int = 3) -> VerifyFigures:
    """Seeds a fresh chain and database, exports the bundle and times its verification."""
    stack = fresh_stack_settings("verify", indexer_enabled=False, anchorer_enabled=False)
    with stack as settings, prepare(settings) as prepared:
        began = time.perf_counter()
        with TestClient(create_app(settings)) as client:
            milk = _seed(client, events=events, lots=lots)
            engine = make_engine(settings.effective_database_url)
            try:
                relayer = client.app.state.chain.relayer  # type: ignore[attr-defined]
                Anchorer.from_settings(settings, engine=engine, relayer=relayer).drain()
                follower = make_follower(settings, engine, prepared.deployment)
                try:
                    follower.catch_up()
                finally:
                    follower.close()
            finally:
                engine.dispose()
            response = client.get(f"/api/v1/lots/{milk}/evidence")
            response.raise_for_status()
        seeded = time.perf_counter() - began
        bundle = response.json()
        rpc = settings.effective_rpc_url
        timings = []
        for _ in range(repeat):
            w3 = Web3(HTTPProvider(rpc, request_kwargs={"timeout": 60}))
            began = time.perf_counter()
            report = verify_bundle(bundle, w3)
            timings.append(time.perf_counter() - began)
    roots = {event.get("root") for event in bundle["events"]}
    return VerifyFigures(
        events=len(bundle["events"]),
        lots=len(bundle["lots"]),
        batches=len(roots),
        checks=sum(report.checked.values()),
        failures=sum(len(problems) for problems in report.failures.values()),
        bundle_bytes=len(response.content),
        seed_seconds=seeded,
        verify_seconds=timings,
    )
