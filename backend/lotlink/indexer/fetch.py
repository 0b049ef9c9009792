"""Reading the chain in bounded ranges: eth_getLogs spans that halve when an endpoint refuses
them and grow back after successes, and block headers fetched in JSON-RPC batches."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from lotlink.chain.rpc import RpcClient
from lotlink.errors import ChainRpcError, LogRangeRefusedError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Successful ranges in a row before the span doubles again (up to its configured maximum).
GROW_AFTER = 3
#: Headers asked for in one JSON-RPC batch.
HEADER_BATCH = 256


@dataclass(frozen=True, slots=True)
class Header:
    """What the indexer keeps of a block: where it is, what it links to, when it was made."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int


def header_of(block: dict[str, Any]) -> Header:
    return Header(
        number=int(block["number"], 16),
        hash=str(block["hash"]).lower(),
        parent_hash=str(block["parentHash"]).lower(),
        timestamp=int(block["timestamp"], 16),
    )


class RangeFetcher:
    """The logs of one contract over block ranges no wider than ``span``.

    ``span`` starts at ``max_span`` and halves each time the endpoint refuses a range (by
    message, code -32005 or HTTP 413); after `GROW_AFTER` accepted ranges it doubles again.
    """

    def __init__(self, rpc: RpcClient, address: str, *, max_span: int) -> None:
        self.rpc = rpc
        self.address = address.lower()
        self.max_span = max_span
        self.span = max_span
        self._accepted = 0
        self.refusals = 0

    def head(self) -> int:
        return int(self.rpc.call("eth_blockNumber", []), 16)

    def logs(
        self, from_block: int, to_block: int, *, topics: list[Any] | None = None
    ) -> list[dict[str, Any]]:
        """One eth_getLogs over exactly [from_block, to_block]; raises on refusal."""
        query: dict[str, Any] = {
            "address": self.address,
            "fromBlock": hex(from_block),
            "toBlock": hex(to_block),
        }
        if topics is not None:
            query["topics"] = topics
        result = self.rpc.call("eth_getLogs", [query], span=(from_block, to_block))
        if not isinstance(result, list):
            raise ChainRpcError(method="eth_getLogs", reason="result is not a list", retryable=True)
        return result

    def next_range(
        self, from_block: int, limit: int, *, before: Callable[[int], T]
    ) -> tuple[int, T, list[dict[str, Any]]]:
        """Logs from `from_block` up to at most `limit`, as wide as the endpoint accepts.

        `before(to_block)` runs just before each attempt (the follower reads the range's last
        header there, to notice a reorg during the read). Returns the last block covered, what
        `before` returned for it, and the logs. A refusal of a single block is raised: nothing
        narrower can be asked.
        """
        while True:
            to_block = min(limit, from_block + self.span - 1)
            seen = before(to_block)
            try:
                found = self.logs(from_block, to_block)
            except LogRangeRefusedError as refusal:
                self.refusals += 1
                self._accepted = 0
                if to_block == from_block:
                    raise
                self.span = max(1, (to_block - from_block + 1) // 2)
                log.info("indexer: %s; asking for %d blocks", refusal, self.span)
                continue
            self._accepted += 1
            if self._accepted >= GROW_AFTER and self.span < self.max_span:
                self.span = min(self.max_span, self.span * 2)
                self._accepted = 0
            return to_block, seen, found

    def logs_between(
        self, from_block: int, to_block: int, *, topics: list[Any] | None = None
    ) -> list[dict[str, Any]]:
        """Every log over [from_block, to_block], in as many ranges as the endpoint needs
        (used to re-read an entity's history after a reorg)."""
        found: list[dict[str, Any]] = []
        start = from_block
        span = self.span
        while start <= to_block:
            end = min(to_block, start + span - 1)
            try:
                found.extend(self.logs(start, end, topics=topics))
            except LogRangeRefusedError:
                if end == start:
                    raise
                span = max(1, (end - start + 1) // 2)
                continue
            start = end + 1
        return found

    def headers(self, numbers: list[int]) -> dict[int, Header | None]:
        """Headers by number (None where the chain has no such block), batched."""
        result: dict[int, Header | None] = {}
        for offset in range(0, len(numbers), HEADER_BATCH):
            chunk = numbers[offset : offset + HEADER_BATCH]
            blocks = self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in chunk])
            for number, block in zip(chunk, blocks, strict=True):
                result[number] = None if block is None else header_of(block)
        return result

    def header(self, number: int) -> Header | None:
        block = self.rpc.call("eth_getBlockByNumber", [hex(number), False])
        return None if block is None else header_of(block)
