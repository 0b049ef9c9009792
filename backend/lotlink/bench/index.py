"""`lotlink bench index`: fill a fresh anvil with contract events, then index them into a fresh
SQLite database from scratch, and decode the same logs with web3.py's `process_log` beside it.

Filling: anvil signs for its unlocked development accounts, so transactions go out as
`eth_sendTransaction` in JSON-RPC batches with explicit nonces and gas, automine off, and a
block is mined after each batch (many events per block, as on a busy chain). One event in ten
is a lot registration (every other one made from the previous lot, so lineage edges are
written too); the rest are direct checkpoint records.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector
from sqlalchemy import func, select

from lotlink.bench.harness import BenchChain, bench_chain, bench_gln
from lotlink.chain.decode import LogDecoder
from lotlink.chain.rpc import RpcClient
from lotlink.chain.typed_data import Authorization
from lotlink.config import Settings
from lotlink.db.engine import make_engine
from lotlink.db.migrate import upgrade_database
from lotlink.gs1.keys import check_digit, lot_key
from lotlink.indexer.follower import Follower
from lotlink.models import AppliedLog, LineageEdge, Lot
from lotlink.vocabulary import CheckpointKind, Role

LOT_EVERY = 10
BATCH = 500  # transactions per JSON-RPC batch, and per mined block
_AUTH = Authorization.direct().as_tuple()
_LOT_TYPE = "(string,string,bytes32[],uint256[],uint256,string,bytes32)"
_AUTH_TYPE = "(address,uint256,uint256,bytes)"
_REGISTER_LOT = function_signature_to_4byte_selector(f"registerLot({_LOT_TYPE},{_AUTH_TYPE})")
_RECORD = function_signature_to_4byte_selector(
    f"recordCheckpoint(bytes32,bytes32,uint8,{_AUTH_TYPE})"
)


@dataclass
class IndexFigures:
    events: int
    lots: int
    checkpoints: int
    blocks: int
    fill_seconds: float
    index_seconds: float
    rows_written: dict[str, int]
    ours_decode_per_s: float
    ours_eth_abi_decode_per_s: float
    web3_decode_per_s: float
    refusals: int

    @property
    def index_per_s(self) -> float:
        return self.events / self.index_seconds


def _calldata(n: int, lots: list[bytes], gtin: str) -> tuple[bytes, int]:
    """The n-th event's call: a lot every LOT_EVERY events, a checkpoint on a lot otherwise."""
    if n % LOT_EVERY == 0 or not lots:
        parents = [lots[-1]] if lots and len(lots) % 2 else []
        code = f"L{len(lots)}"
        lot = (gtin, code, parents, [1000] * len(parents), 5000, "KGM", bytes(32))
        lots.append(lot_key(gtin, code))
        return _REGISTER_LOT + encode([_LOT_TYPE, _AUTH_TYPE], [lot, _AUTH]), 400_000
    event_hash = n.to_bytes(32, "big")
    args = [event_hash, lots[n % len(lots)], CheckpointKind.PRODUCED.code, _AUTH]
    return _RECORD + encode(["bytes32", "bytes32", "uint8", _AUTH_TYPE], args), 80_000


def fill_chain(chain: BenchChain, events: int) -> tuple[int, int]:
    """Sends `events` event-emitting transactions; returns (lots, checkpoints)."""
    admin, supplier = chain.accounts[0], chain.accounts[1]
    chain.send("registerActor", supplier.address, Role.SUPPLIER.id, bench_gln(1), bytes(32),
               by=admin)  # fmt: skip
    rpc = RpcClient(chain.w3.provider.endpoint_uri or "", timeout=120)  # type: ignore[attr-defined]
    base = "0952123400099"
    gtin = base + str(check_digit(base))
    lots: list[bytes] = []
    nonce = int(rpc.call("eth_getTransactionCount", [supplier.address, "latest"]), 16)
    rpc.call("evm_setAutomine", [False])
    to = chain.lotlink.address
    try:
        for start in range(0, events, BATCH):
            calls: list[tuple[str, list[Any]]] = []
            for n in range(start, min(events, start + BATCH)):
                data, gas = _calldata(n, lots, gtin)
                tx = {"from": supplier.address, "to": to, "data": "0x" + data.hex(),
                      "gas": hex(gas), "nonce": hex(nonce)}  # fmt: skip
                calls.append(("eth_sendTransaction", [tx]))
                nonce += 1
            rpc.batch(calls)
            rpc.call("evm_mine", [])
        while int(rpc.call("txpool_status", [])["pending"], 16):
            rpc.call("evm_mine", [])
    finally:
        rpc.call("evm_setAutomine", [True])
        rpc.close()
    return len(lots), events - len(lots)


def _decode_rates(chain: BenchChain, start: int, sample: int) -> tuple[float, float, float]:
    """Events/s decoding the same logs: ours (word path), ours (eth_abi only), web3.py's."""
    rpc = RpcClient(chain.w3.provider.endpoint_uri or "", timeout=120)  # type: ignore[attr-defined]
    head = int(rpc.call("eth_blockNumber", []), 16)
    raws = rpc.call("eth_getLogs", [{"address": chain.lotlink.address, "fromBlock": hex(start),
                                     "toBlock": hex(head)}])[:sample]  # fmt: skip
    rpc.close()
    rates = []
    for use_eth_abi in (False, True):
        decoder = LogDecoder(chain.lotlink.abi, use_eth_abi=use_eth_abi)
        began = time.perf_counter()
        decoder.decode_all(raws)
        rates.append(len(raws) / (time.perf_counter() - began))
    formatted = chain.w3.eth.get_logs(
        {"address": chain.lotlink.address, "fromBlock": start, "toBlock": head}
    )[:sample]
    events = {
        spec.topic0: getattr(chain.lotlink.contract.events, spec.name)()
        for spec in LogDecoder(chain.lotlink.abi).by_topic.values()
    }
    began = time.perf_counter()
    for entry in formatted:
        events["0x" + bytes(entry["topics"][0]).hex()].process_log(entry)
    rates.append(len(formatted) / (time.perf_counter() - began))
    return rates[0], rates[1], rates[2]


def measure_index(
    events: int, *, settings: Settings | None = None, decode_sample: int = 20_000
) -> IndexFigures:
    with bench_chain(settings) as chain, tempfile.TemporaryDirectory(prefix="lotlink-idx-") as tmp:
        began = time.perf_counter()
        lots, checkpoints = fill_chain(chain, events)
        fill_seconds = time.perf_counter() - began
        start = 1  # a fresh chain: the deployment is its first block
        url = f"sqlite:///{Path(tmp) / 'index.db'}"
        upgrade_database(url)
        engine = make_engine(url)
        follower = Follower(
            engine=engine,
            rpc_url=chain.w3.provider.endpoint_uri or "",  # type: ignore[attr-defined]
            address=chain.lotlink.address,
            start_block=start,
            abi=chain.lotlink.abi,
        )
        try:
            began = time.perf_counter()
            follower.catch_up()
            index_seconds = time.perf_counter() - began
            with engine.connect() as conn:
                rows = {
                    model.__tablename__: conn.execute(
                        select(func.count()).select_from(model)
                    ).scalar_one()
                    for model in (AppliedLog, Lot, LineageEdge)
                }
        finally:
            follower.close()
            engine.dispose()
        head = chain.w3.eth.block_number
        ours, ours_eth_abi, web3 = _decode_rates(chain, start, decode_sample)
        return IndexFigures(
            events=events,
            lots=lots,
            checkpoints=checkpoints,
            blocks=head - start + 1,
            fill_seconds=fill_seconds,
            index_seconds=index_seconds,
            rows_written=rows,
            ours_decode_per_s=ours,
            ours_eth_abi_decode_per_s=ours_eth_abi,
            web3_decode_per_s=web3,
            refusals=follower.fetcher.refusals,
        )
