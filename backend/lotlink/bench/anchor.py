"""`lotlink bench anchor`: checkpoints POSTed to the service until their receipts are stored.

The default stack, started for real: a managed anvil, a SQLite database, and the service under
uvicorn with the anchorer and indexer running inside it, as `lotlink serve` runs them. One
supplier (a custodial actor, so the service could sign too) registers one lot per client
through the API. Each client then POSTs EPCIS 2.0 capture documents to ``/epcis/capture``
for its own lot (so each lot's hash chain has one writer), the way a producer's own system
would with `lotlink submit --keystore`: built and EIP-712-signed on the client before the clock
starts, with ``lotlink:previous`` chained client-side. The service validates each document
against GS1's schema, hashes each event, checks each signature, stores the events with their
outbox entries, and its anchorer batches them on chain.

Two runs:

- **burst**: `clients` threads post `events` events as fast as the service accepts them;
  throughput is events over the time from the first POST to the last stored receipt;
- **steady**: the clients together post `rate` events per second for `seconds` seconds, spread
  evenly; latency runs from each event's POST to its stored receipt (the anchorer's
  ``anchor_receipt.created_at``, on the same machine's clock).

Beside them, the chain's raw ceiling: pre-signed plain transfers sent straight to a fresh anvil
(same build and flags) in JSON-RPC batches until mined.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from lotlink.bench.cpu import CpuSnapshot, children, command_of
from lotlink.bench.harness import bench_chain, bench_gln, free_port, fresh_stack_settings, serve
from lotlink.chain.typed_data import Domain, sign_typed
from lotlink.config import Settings
from lotlink.db.engine import make_engine, make_read_session_factory
from lotlink.epcis.build import CONTEXT, PREVIOUS, previous_ids
from lotlink.epcis.event_hash import event_digest
from lotlink.main import create_app
from lotlink.models import AnchorReceipt
from lotlink.runtime import prepare
from lotlink.services.actors import add_actor
from lotlink.services.checkpoints import checkpoint_message
from lotlink.services.tokens import issue_token
from lotlink.vocabulary import CheckpointKind, Role

GTIN = "09506000134352"


@dataclass(slots=True)
class Request:
    """One capture document, ready to POST: its body, signature header and event digests."""

    body: bytes
    signatures: str
    digests: list[str]
    sent_at: float = 0.0


@dataclass(slots=True)
class ClientLot:
    """A client's lot and the capture documents it will post for it, in chain order."""

    lot_key: str
    digital_link: str
    head: bytes | None = None
    requests: list[Request] = field(default_factory=list)


def _event(lot: ClientLot, moment: datetime, place: str) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "quantityList": [{"epcClass": lot.digital_link, "quantity": 5, "uom": "KGM"}],
        "bizStep": "inspecting",
        "disposition": "conformant",
        "readPoint": {"id": f"https://id.gs1.org/414/{place}"},
    }


def build_requests(
    lot: ClientLot, events: int, per_request: int, signer: LocalAccount, domain: Domain
) -> None:
    """Appends capture documents holding `events` signed events for `lot`, chained from its head.

    Built exactly as `lotlink submit --keystore` builds them: each event names its predecessor
    in ``lotlink:previous``, and its CBV 2.0 hash is signed as an EIP-712 ``Checkpoint``.
    """
    place = str(bench_gln(9))
    start = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=len(lot.requests) * per_request)
    for first in range(0, events, per_request):
        batch, signatures, digests = [], [], []
        for i in range(first, min(first + per_request, events)):
            event = _event(lot, start + timedelta(milliseconds=i), place)
            event[PREVIOUS] = previous_ids([] if lot.head is None else [lot.head])
            digest = event_digest(event, context=CONTEXT)
            message = checkpoint_message(digest, lot.lot_key, CheckpointKind.INSPECTED)
            signatures.append("0x" + sign_typed(signer, "Checkpoint", message, domain).hex())
            digests.append("0x" + digest.hex())
            batch.append(event)
            lot.head = digest
        document = {
            "@context": CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-03-01T00:00:00.000Z",
            "epcisBody": {"eventList": batch},
        }
        body = json.dumps(document, separators=(",", ":")).encode()
        lot.requests.append(Request(body, ",".join(signatures), digests))


async def _post_all(
    client: aiohttp.ClientSession,
    token: str,
    requests_: list[Request],
    pace: float | None,
    t0: float,
) -> None:
    """One client: posts each request in order, waiting for each answer before the next; with
    `pace`, the k-th no earlier than t0 + k * pace."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/ld+json",
    }
    for k, request in enumerate(requests_):
        if pace is not None:
            delay = t0 + k * pace - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        request.sent_at = time.time()
        async with client.post(
            "/epcis/capture",
            data=request.body,
            headers=headers | {"Lotlink-Signature": request.signatures},
        ) as response:
            if response.status != 201:
                raise RuntimeError(f"capture refused: {response.status} {await response.text()}")
            await response.read()


def _run_clients(base: str, token: str, lots: list[ClientLot], pace: float | None) -> None:
    """The clients, one per lot, concurrently: tasks of one event loop, each with its own
    keep-alive connection. (Thirty-two threads of this process spent more of the machine's two
    cores contending for its interpreter lock than posting; aiohttp, whose HTTP parser is C,
    costs the clients half the CPU httpx did (34 against 72 µs an event in one run), leaving
    it to the service measured.)"""

    async def run_all() -> None:
        t0 = time.perf_counter()
        spread = 0.0 if pace is None else pace / len(lots)
        connections = aiohttp.TCPConnector(limit=len(lots))
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(base, connector=connections, timeout=timeout) as client:
            outcomes = await asyncio.gather(
                *(
                    _post_all(client, token, lot.requests, pace, t0 + i * spread)
                    for i, lot in enumerate(lots)
                ),
                return_exceptions=True,
            )
        if failures := [o for o in outcomes if isinstance(o, BaseException)]:
            raise RuntimeError(f"{len(failures)} clients failed; first: {failures[0]}")

    asyncio.run(run_all())


class _Receipts:
    """The service's stored receipts, read beside it (never through its writer)."""

    def __init__(self, settings: Settings) -> None:
        self.engine = make_engine(settings.effective_database_url)
        self.sessions = make_read_session_factory(self.engine)

    def count(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(AnchorReceipt)) or 0

    def wait_for(self, digests: list[str], *, before: int, timeout: float) -> dict[str, float]:
        """Waits until every digest has a stored receipt; returns each one's creation time
        (epoch). Polls the receipt count, `before` when the digests were posted, until it has
        grown by as many: counting is ~1 ms where looking up 10,000 digests is ~30 ms of the
        cores the service is being measured on."""
        wanted = set(digests)
        deadline = time.monotonic() + timeout
        while True:
            if (stored := self.count()) >= before + len(wanted):
                with self.sessions() as session:
                    rows = session.execute(
                        select(AnchorReceipt.event_digest, AnchorReceipt.created_at).where(
                            AnchorReceipt.event_digest.in_(wanted)
                        )
                    ).all()
                if len(rows) == len(wanted):
                    return {digest: created.timestamp() for digest, created in rows}
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"only {stored - before} of {len(wanted)} events anchored in {timeout} s"
                )
            # The figures come from the receipts' own times, not from when this poll sees them;
            # polling less often leaves the cores to the service.
            time.sleep(0.25)

    def close(self) -> None:
        self.engine.dispose()


def _latencies(lots: list[ClientLot], anchored: dict[str, float]) -> list[float]:
    return sorted(
        anchored[digest] - request.sent_at
        for lot in lots
        for request in lot.requests
        for digest in request.digests
    )


def _percentile(sorted_values: list[float], p: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, round(p * (len(sorted_values) - 1)))]


def _raw_ceiling(url: str, chain_id: int, count: int) -> float:
    """Signed transfers per second, pre-signed, sent in JSON-RPC batches of 100, until mined.

    From a fresh account funded for the purpose, so no other sender's nonces are involved."""
    account = Account.create()
    session = requests.Session()

    def call(method: str, *params: Any) -> Any:
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method, "params": [*params]}
        answer = session.post(url, json=body, timeout=60).json()
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    call("anvil_setBalance", account.address, hex(10**24))
    fee = 2 * int(call("eth_getBlockByNumber", "latest", False)["baseFeePerGas"], 16) + 10**9
    raws = [
        "0x"
        + bytes(
            account.sign_transaction(
                {"type": 2, "chainId": chain_id, "nonce": i, "to": account.address, "value": 1,
                 "gas": 21_000, "maxFeePerGas": fee, "maxPriorityFeePerGas": 1}
            ).raw_transaction
        ).hex()
        for i in range(count)
    ]  # fmt: skip
    began = time.perf_counter()
    for start in range(0, count, 100):
        batch: list[Any] = [
            {"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raw]}
            for i, raw in enumerate(raws[start : start + 100])
        ]
        answers = session.post(url, json=batch, timeout=300).json()
        if refused := [a["error"] for a in answers if "error" in a]:
            raise RuntimeError(f"anvil refused {len(refused)} transfers: {refused[0]}")
    while int(call("eth_getTransactionCount", account.address, "latest"), 16) < count:
        time.sleep(0.01)
    return count / (time.perf_counter() - began)


@dataclass(frozen=True, slots=True)
class AnchorFigures:
    events: int
    clients: int
    per_request: int
    burst_accepted_per_s: float
    burst_anchored_per_s: float
    burst_p50_s: float
    burst_p95_s: float
    steady_rate: int
    steady_events: int
    steady_p50_s: float
    steady_p95_s: float
    steady_max_s: float
    raw_chain_tx_per_s: float
    workers: int
    cores: int
    burst_cpu_us_per_event: dict[str, float]  # CPU µs per burst event, by process group
    # Each web worker's share of the web workers' CPU in the burst, largest first: the clients'
    # keep-alive connections are spread by whichever worker accepts first, not evenly.
    burst_worker_shares: list[float]


def _setup(settings: Settings, lots: int) -> tuple[str, LocalAccount, Domain, list[ClientLot]]:
    """A custodial supplier, its token and `lots` lots registered through the API."""
    quiet = settings.model_copy(update={"indexer_enabled": False, "anchorer_enabled": False})
    with TestClient(create_app(quiet)) as client:
        chain = client.app.state.chain  # type: ignore[attr-defined]
        with client.app.state.sessions() as session:  # type: ignore[attr-defined]
            created = add_actor(
                session, chain, role=Role.SUPPLIER, gln=str(bench_gln(1)), name="Bench dairy"
            )
            token = issue_token(session, created.actor, label="bench").secret
        assert created.account is not None
        headers = {"Authorization": f"Bearer {token}"}
        made = []
        for i in range(lots):
            body = {"gtin": GTIN, "lot_code": f"BENCH-{i:04d}", "product_name": "Whole milk",
                    "quantity": 10_000, "unit": "KGM"}  # fmt: skip
            response = client.post("/api/v1/lots", json=body, headers=headers)
            if response.status_code != 201:
                raise RuntimeError(f"lot registration failed: {response.text}")
            lot = response.json()
            made.append(ClientLot(lot["lot_key"], lot["digital_link"]))
        domain = chain.contract.domain
    return token, created.account, domain, made


def measure_anchor(
    events: int,
    clients: int,
    *,
    per_request: int = 50,
    rate: int = 500,
    seconds: int = 10,
    raw_transactions: int = 1000,
    workers: int | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> AnchorFigures:
    """Runs the burst and the steady run on one fresh stack; returns their figures, telling
    `progress` what it is doing."""
    with fresh_stack_settings("anchor") as settings:
        with prepare(settings):
            progress(f"registering {2 * clients} lots through the API")
            token, signer, domain, lots = _setup(settings, 2 * clients)
            progress("building and signing the clients' capture documents")
            burst, steady = lots[:clients], lots[clients:]
            for i, lot in enumerate(burst):
                share = events // clients + (1 if i < events % clients else 0)
                build_requests(lot, share, per_request, signer, domain)
            # Steady: `rate` events/s in all, as small requests spread evenly over the clients.
            steady_events = rate * seconds
            steady_per_request = max(1, min(per_request, steady_events // (clients * seconds)))
            for i, lot in enumerate(steady):
                share = steady_events // clients + (1 if i < steady_events % clients else 0)
                build_requests(lot, share, steady_per_request, signer, domain)
            with (
                serve(settings, port=free_port(), workers=workers, background=True) as service,
                closing(_Receipts(settings)) as receipts,
            ):
                base = service.base
                groups = _process_groups(service.pid)
                each_worker = {str(pid): [pid] for pid in groups["web workers"]}
                progress("burst: posting")
                before = receipts.count()
                cpu_before = CpuSnapshot.of(groups)
                workers_before = CpuSnapshot.of(each_worker)
                began = time.perf_counter()
                began_epoch = time.time()
                _run_clients(base, token, burst, pace=None)
                accepted = time.perf_counter() - began
                progress(f"burst: all accepted after {accepted:.1f} s; waiting for receipts")
                burst_digests = [d for lot in burst for r in lot.requests for d in r.digests]
                burst_done = receipts.wait_for(burst_digests, before=before, timeout=600)
                anchored = max(burst_done.values()) - began_epoch
                burst_cpu = CpuSnapshot.of(groups).since(cpu_before)
                worker_cpu = CpuSnapshot.of(each_worker).since(workers_before)
                burst_latency = _latencies(burst, burst_done)

                progress(f"burst: all anchored after {anchored:.1f} s; steady run")
                pace = steady_per_request * clients / rate
                before = receipts.count()
                _run_clients(base, token, steady, pace=pace)
                steady_digests = [d for lot in steady for r in lot.requests for d in r.digests]
                steady_done = receipts.wait_for(steady_digests, before=before, timeout=600)
                steady_latency = _latencies(steady, steady_done)
        progress("raw chain ceiling, on a fresh anvil of the same build and flags")
        with bench_chain(settings) as fresh:
            ceiling = _raw_ceiling(
                str(fresh.w3.provider.endpoint_uri),  # type: ignore[attr-defined]
                fresh.lotlink.chain_id,
                raw_transactions,
            )
    return AnchorFigures(
        events=len(burst_digests),
        clients=clients,
        per_request=per_request,
        burst_accepted_per_s=len(burst_digests) / accepted,
        burst_anchored_per_s=len(burst_digests) / anchored,
        burst_p50_s=statistics.median(burst_latency),
        burst_p95_s=_percentile(burst_latency, 0.95),
        steady_rate=rate,
        steady_events=len(steady_digests),
        steady_p50_s=statistics.median(steady_latency),
        steady_p95_s=_percentile(steady_latency, 0.95),
        steady_max_s=steady_latency[-1],
        raw_chain_tx_per_s=ceiling,
        workers=workers or settings.workers or os.cpu_count() or 1,
        cores=os.cpu_count() or 1,
        burst_cpu_us_per_event={
            name: seconds * 1e6 / len(burst_digests) for name, seconds in burst_cpu.items()
        },
        burst_worker_shares=sorted(
            (used / (sum(worker_cpu.values()) or 1) for used in worker_cpu.values()), reverse=True
        ),
    )


def _process_groups(serving: int) -> dict[str, list[int]]:
    """The processes of the run by part: this one (the clients), the chain, the serving
    process (the anchorer, the indexer and the periodic rounds) and its web workers."""
    own = children(os.getpid())
    workers = [pid for pid in children(serving) if "spawn_main" in command_of(pid)]
    return {
        "clients": [os.getpid()],
        "web workers": workers,
        "serving process": [serving],
        "anvil": [pid for pid in own if "anvil" in command_of(pid)],
    }
