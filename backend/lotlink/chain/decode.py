"""Decoding the contract's logs from their raw topics and data, one precomputed decoder per
event signature.

Values come out as the index stores them: bytes32 and addresses as lowercase 0x-hex text,
integers as ``int``, structs and arrays as tuples. Each signature gets its decoder once: the
ABI layouts Lotlink's events use (single words, strings, arrays of words, tuples of those) are
read straight from the hex by a plan built from the types; anything else goes through eth_abi's
tuple decoder, also built once. ``use_eth_abi=True`` forces eth_abi everywhere; a test holds
both paths equal to web3.py's own `process_log` on real logs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import default_codec
from eth_utils import keccak

Word = Callable[[str], Any]  # 64 hex characters -> value

_STATIC_WORDS: dict[str, Word] = {
    "address": lambda w: "0x" + w[24:].lower(),
    "bytes32": lambda w: "0x" + w.lower(),
    "bool": lambda w: int(w, 16) != 0,
}


def _word_decoder(abi_type: str) -> Word | None:
    """A decoder for one static 32-byte word, or None when `abi_type` is not a simple word."""
    if abi_type in _STATIC_WORDS:
        return _STATIC_WORDS[abi_type]
    if abi_type.startswith("uint") and abi_type[4:].isdigit():
        return lambda w: int(w, 16)
    return None


Reader = Callable[[str, int], Any]  # (hex body, position of its head) -> value


def _is_dynamic(abi_type: str) -> bool:
    return (
        abi_type in ("string", "bytes")
        or abi_type.endswith("[]")
        or (abi_type.startswith("(") and any(_is_dynamic(t) for t in _split_tuple(abi_type)))
    )


def _split_tuple(abi_type: str) -> list[str]:
    """The component types of ``(a,b,(c,d)[])``."""
    inner, parts, depth, current = abi_type[1:-1], [], 0, ""
    for char in inner:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += char == "("
        depth -= char == ")"
        current += char
    return [*parts, current] if current else parts


def _reader(abi_type: str) -> Reader | None:
    """A reader of one value at its head position, for the layouts Lotlink uses; None when
    the type needs eth_abi (static tuples, fixed arrays, nested dynamic arrays...)."""
    word = _word_decoder(abi_type)
    if word is not None:
        return lambda body, at: word(body[at : at + 64])
    if abi_type in ("string", "bytes"):
        text = abi_type == "string"

        def read_bytes(body: str, at: int) -> Any:
            length = int(body[at : at + 64], 16) * 2
            raw = body[at + 64 : at + 64 + length]
            return bytes.fromhex(raw).decode("utf-8") if text else "0x" + raw

        return _behind_offset(read_bytes)
    if abi_type.endswith("[]") and (item := _word_decoder(abi_type[:-2])) is not None:

        def read_array(body: str, at: int) -> Any:
            count = int(body[at : at + 64], 16)
            return tuple(item(body[at + 64 + 64 * i : at + 128 + 64 * i]) for i in range(count))

        return _behind_offset(read_array)
    if abi_type.startswith("(") and abi_type.endswith(")") and _is_dynamic(abi_type):
        tuple_reader = _tuple_reader(_split_tuple(abi_type))
        return None if tuple_reader is None else _behind_offset(tuple_reader)
    return None


def _behind_offset(read: Reader) -> Reader:
    """A dynamic value: its head holds an offset, in bytes, from the enclosing tuple's start."""

    def follow(body: str, at: int, base: int = 0) -> Any:
        return read(body, base + int(body[at : at + 64], 16) * 2)

    return follow


def _tuple_reader(types: Sequence[str]) -> Reader | None:
    readers = [_reader(t) for t in types]
    if any(r is None for r in readers):
        return None
    dynamic = [_is_dynamic(t) for t in types]

    def read_tuple(body: str, start: int) -> tuple[Any, ...]:
        return tuple(
            r(body, start + 64 * i, start) if d else r(body, start + 64 * i)  # type: ignore[misc,call-arg]
            for i, (r, d) in enumerate(zip(readers, dynamic, strict=True))
        )

    return read_tuple


def _normalize(value: Any) -> Any:
    """eth_abi's values in the index's spelling."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        return value.lower()
    if isinstance(value, tuple | list):
        return tuple(_normalize(item) for item in value)
    return value


def _abi_type(item: dict[str, Any]) -> str:
    kind = str(item["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in item["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


@dataclass(slots=True)
class ChainLog:
    """One decoded log and where it sits on chain; (block_number, log_index) orders logs."""

    name: str
    args: dict[str, Any]
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    address: str
    timestamp: int | None

    @property
    def key(self) -> tuple[str, int]:
        return (self.tx_hash, self.log_index)


class EventSpec:
    """One event of the ABI, with its topic0 and decoders prepared."""

    def __init__(self, item: dict[str, Any]) -> None:
        self.name: str = item["name"]
        inputs = item["inputs"]
        types = [_abi_type(i) for i in inputs]
        self.signature = f"{self.name}({','.join(types)})"
        self.topic0 = "0x" + keccak(text=self.signature).hex()
        self.indexed = [(i["name"], _word_decoder(_abi_type(i))) for i in inputs if i["indexed"]]
        for name, decoder in self.indexed:
            if decoder is None:  # hashed dynamic topics are not used by Lotlink
                raise ValueError(f"{self.name}.{name}: unsupported indexed type")
        data_inputs = [i for i in inputs if not i["indexed"]]
        self.data_names = [i["name"] for i in data_inputs]
        self.data_types = [_abi_type(i) for i in data_inputs]
        self._fast = _tuple_reader(self.data_types)
        self._tuple_decoder = default_codec._registry.get_tuple_decoder(*self.data_types)

    def decode_args(self, topics: Sequence[str], data: str, *, use_eth_abi: bool) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for (name, decoder), topic in zip(self.indexed, topics[1:], strict=True):
            args[name] = decoder(topic[2:])  # type: ignore[misc]
        if not self.data_names:
            return args
        if self._fast is not None and not use_eth_abi:
            values = self._fast(data[2:], 0)
            for name, value in zip(self.data_names, values, strict=True):
                args[name] = value
            return args
        stream = default_codec.stream_class(bytes.fromhex(data[2:]))
        values = self._tuple_decoder(stream)
        for name, value in zip(self.data_names, values, strict=True):
            args[name] = _normalize(value)
        return args


class LogDecoder:
    """Decodes raw eth_getLogs entries of one contract; logs of other events are skipped."""

    def __init__(self, abi: Iterable[dict[str, Any]], *, use_eth_abi: bool = False) -> None:
        self.by_topic = {
            spec.topic0: spec
            for spec in (EventSpec(item) for item in abi if item.get("type") == "event")
        }
        self.use_eth_abi = use_eth_abi

    def topic0(self, name: str) -> str:
        for topic, spec in self.by_topic.items():
            if spec.name == name:
                return topic
        raise KeyError(name)

    def decode(self, raw: dict[str, Any]) -> ChainLog | None:
        """The decoded log, or None for an event this ABI does not declare."""
        topics = raw["topics"]
        if not topics:
            return None
        spec = self.by_topic.get(topics[0].lower())
        if spec is None:
            return None
        timestamp = raw.get("blockTimestamp")
        return ChainLog(
            name=spec.name,
            args=spec.decode_args(topics, raw["data"], use_eth_abi=self.use_eth_abi),
            block_number=int(raw["blockNumber"], 16),
            block_hash=raw["blockHash"].lower(),
            tx_hash=raw["transactionHash"].lower(),
            log_index=int(raw["logIndex"], 16),
            address=raw["address"].lower(),
            timestamp=None if timestamp is None else int(timestamp, 16),
        )

    def decode_all(self, raws: Iterable[dict[str, Any]]) -> list[ChainLog]:
        """Decoded logs in chain order; removed (reorged-out) entries are dropped."""
        decoded = [
            log for raw in raws if not raw.get("removed") and (log := self.decode(raw)) is not None
        ]
        decoded.sort(key=lambda log: (log.block_number, log.log_index))
        return decoded
