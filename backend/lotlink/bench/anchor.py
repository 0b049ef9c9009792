"""`lotlink bench anchor`: accepted events to anchored receipts, beside the local chain's ceiling.

On a fresh anvil and a SQLite file in a temporary directory: `clients` threads accept signed
events (each one database transaction writing the checkpoint, its lot link and its outbox
entry, as the API does) while the anchorer runs; every event's latency runs from its outbox
entry to its stored receipt. Beside it, the chain's raw ceiling: pre-signed transactions sent
straight to anvil in JSON-RPC batches.

The events are inserted directly, not POSTed: this measures outbox-to-anchored, the
anchorer's part of the write path.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from lotlink.anchoring.anchorer import Anchorer
from lotlink.bench.harness import bench_chain, bench_gln
from lotlink.chain.deploy import DeployedContract, Deployment, save_deployment
from lotlink.chain.typed_data import Authorization, sign_typed
from lotlink.config import Settings
from lotlink.db import make_engine, make_session_factory, upgrade_database
from lotlink.epcis.event_hash import event_digest
from lotlink.gs1.keys import lot_key
from lotlink.models import (
    Actor,
    ActorRole,
    AnchorReceipt,
    Checkpoint,
    CheckpointKind,
    CheckpointLot,
    Lot,
    OutboxEntry,
)
from lotlink.vocabulary import Role

GTIN = "09506000134352"
CONTEXT = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"]


@dataclass(frozen=True, slots=True)
class _Signed:
    digest: str
    document: str
    signature: bytes
    moment: datetime
    lot_key: str


def _sign_events(n: int, clients: int, signer: LocalAccount, domain: Any) -> list[list[_Signed]]:
    """`n` signed events, one lot per client (each lot's hash chain has one writer)."""
    per_client: list[list[_Signed]] = [[] for _ in range(clients)]
    for i in range(n):
        client = i % clients
        key = "0x" + lot_key(GTIN, f"B{client}").hex()
        moment = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(milliseconds=i)
        event = {
            "type": "ObjectEvent",
            "eventTime": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "eventTimeZoneOffset": "+00:00",
            "epcList": [f"https://id.gs1.org/01/{GTIN}/21/{i}"],
            "action": "OBSERVE",
            "bizStep": "commissioning",
        }
        digest = event_digest(event, context=CONTEXT)
        message = {"eventHash": digest, "lotKey": bytes.fromhex(key[2:]), "kind": 0}
        document = json.dumps(
            {"@context": CONTEXT, "type": "EPCISDocument", "epcisBody": {"eventList": [event]}},
            separators=(",", ":"),
        )
        per_client[client].append(
            _Signed(
                "0x" + digest.hex(), document, sign_typed(signer, "Checkpoint", message, domain),
                moment, key,
            )
        )  # fmt: skip
    return per_client


def _accept(sessions: sessionmaker[Session], signer: str, events: list[_Signed]) -> None:
    # One writer per lot, so each event's predecessor is the client's previous event; the
    # transaction writes first (SQLite: a reader turned writer fails under concurrency).
    prev: str | None = None
    for signed in events:
        for attempt in range(100):
            try:
                _accept_one(sessions, signer, signed, prev)
                break
            except OperationalError:  # SQLite's busy timeout ran out under load: try again
                if attempt == 99:
                    raise
        prev = signed.digest


def _accept_one(
    sessions: sessionmaker[Session], signer: str, signed: _Signed, prev: str | None
) -> None:
    with sessions.begin() as session:
        checkpoint = Checkpoint(
            digest=signed.digest,
            event_id=f"ni:///sha-256;{signed.digest[2:]}?ver=CBV2.0",
            epcis_json=signed.document,
            event_type="ObjectEvent",
            kind=CheckpointKind.PRODUCED,
            event_time=signed.moment,
            event_time_offset="+00:00",
            primary_lot_key=signed.lot_key,
            signer_address=signer,
            signature=signed.signature,
        )
        checkpoint.lots.append(CheckpointLot(lot_key=signed.lot_key, prev_digest=prev))
        session.add(checkpoint)
        session.add(OutboxEntry(event_digest=signed.digest))
        session.flush()
        session.execute(
            update(Lot).where(Lot.lot_key == signed.lot_key).values(head_digest=signed.digest)
        )


def _raw_ceiling(url: str, account: LocalAccount, chain_id: int, count: int) -> float:
    """Signed transfers per second, pre-signed, sent in JSON-RPC batches of 100, until mined."""
    nonce = int(
        requests.post(
            url,
            json={"jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionCount",
                  "params": [account.address, "pending"]},
            timeout=30,
        ).json()["result"], 16,
    )  # fmt: skip
    raws = [
        "0x"
        + bytes(
            account.sign_transaction(
                {"type": 2, "chainId": chain_id, "nonce": nonce + i, "to": account.address,
                 "value": 1, "gas": 21_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1}
            ).raw_transaction
        ).hex()
        for i in range(count)
    ]  # fmt: skip
    began = time.perf_counter()
    session = requests.Session()
    for start in range(0, count, 100):
        batch: list[Any] = [
            {"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raw]}
            for i, raw in enumerate(raws[start : start + 100])
        ]
        session.post(url, json=batch, timeout=60).raise_for_status()
    while True:
        answer = session.post(
            url,
            json={"jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionCount",
                  "params": [account.address, "latest"]},
            timeout=30,
        ).json()  # fmt: skip
        if int(answer["result"], 16) >= nonce + count:
            break
        time.sleep(0.01)
    return count / (time.perf_counter() - began)


def measure_anchor(events: int, clients: int, *, raw_transactions: int = 5000) -> dict[str, float]:
    """Runs the benchmark; returns its figures."""
    with bench_chain() as chain, tempfile.TemporaryDirectory(prefix="lotlink-bench-") as tmp:
        admin, relayer, supplier = chain.accounts[:3]
        for index, (account, role) in enumerate(
            ((relayer, Role.ANCHORER), (supplier, Role.SUPPLIER)), start=1
        ):
            args = (account.address, role.id, bench_gln(index), bytes(32))
            chain.lotlink.transact(
                "registerActor", *args, Authorization.direct().as_tuple(), sender=admin
            )
        database = f"sqlite:///{Path(tmp) / 'lotlink.db'}"
        upgrade_database(database)
        settings = Settings(
            var_dir=Path(tmp) / "var",
            rpc_url=str(chain.w3.provider.endpoint_uri),  # type: ignore[attr-defined]
            database_url=database,
            relayer_key=SecretStr("0x" + bytes(relayer.key).hex()),
        )
        save_deployment(
            Deployment(
                chain_id=chain.lotlink.chain_id,
                contracts={
                    "Lotlink": DeployedContract(
                        address=chain.lotlink.address, block=1, tx_hash="0x" + "00" * 32,
                        abi_hash="bench",
                    )
                },
                deployer=admin.address, admin=admin.address,
                deployed_at=datetime.now(UTC).replace(microsecond=0),
            ),
            settings.deployment_file,
        )  # fmt: skip
        engine = make_engine(database)
        sessions = make_session_factory(engine)
        signed = _sign_events(events, clients, supplier, chain.lotlink.domain)
        with sessions.begin() as session:
            actor = Actor(address=supplier.address, name="Bench supplier")
            actor.roles.append(ActorRole(role=Role.SUPPLIER))
            session.add(actor)
            for client in range(clients):
                key = "0x" + lot_key(GTIN, f"B{client}").hex()
                session.add(
                    Lot(lot_key=key, gtin=GTIN, lot_code=f"B{client}", quantity_milli=1,
                        unit="KGM", owner_address=supplier.address)
                )  # fmt: skip
        anchorer = Anchorer.from_settings(settings, engine=engine)
        anchorer.start()
        began = time.perf_counter()
        threads = [
            threading.Thread(target=_accept, args=(sessions, supplier.address, signed[c]))
            for c in range(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        accepted = time.perf_counter() - began
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with sessions() as session:
                done = session.query(AnchorReceipt).count()
            if done >= events:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"only {done} of {events} events anchored after 10 minutes")
        anchored = time.perf_counter() - began
        anchorer.stop()
        with sessions() as session:
            pairs = session.execute(
                select(OutboxEntry.enqueued_at, AnchorReceipt.created_at).join(
                    AnchorReceipt, AnchorReceipt.event_digest == OutboxEntry.event_digest
                )
            ).all()
        latencies = sorted((done_at - queued).total_seconds() for queued, done_at in pairs)
        engine.dispose()
        ceiling = _raw_ceiling(
            str(chain.w3.provider.endpoint_uri),  # type: ignore[attr-defined]
            chain.accounts[5], chain.lotlink.chain_id, raw_transactions,
        )  # fmt: skip
    return {
        "events": events,
        "clients": clients,
        "accept_per_s": events / accepted,
        "anchored_per_s": events / anchored,
        "latency_p50_s": statistics.median(latencies),
        "latency_p95_s": latencies[int(0.95 * (len(latencies) - 1))],
        "raw_chain_tx_per_s": ceiling,
    }
