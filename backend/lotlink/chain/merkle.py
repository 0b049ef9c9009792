"""OpenZeppelin's StandardMerkleTree (npm @openzeppelin/merkle-tree 1.0.8), byte for byte.

A root anchors a batch of events, so proofs and ``standard-v1`` dumps must pass for the JS
library's and ``MerkleProof.sol``'s. Values are read as OZ's encoder (@metamask/abi-utils) reads
them (bytes as ``0x`` hex, numbers as decimal strings too), but stricter where leniency hides bugs:
``bytesN``/``address`` need their exact length, a mixed-case address a valid EIP-55 checksum.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import eth_abi
from eth_abi.exceptions import EncodingError
from eth_abi.grammar import ABIType, BasicType, TupleType, normalize, parse
from eth_utils import is_checksum_address

from lotlink.chain.keccak import keccak256

FORMAT = "standard-v1"

NodeLike = bytes | str
Nodes = Sequence[NodeLike]
Value = Sequence[Any]  # one leaf: an item per type in the leaf encoding


class MerkleTreeError(ValueError):
    """Raised on an invalid dump, value, index or proof; the message names the offending part."""


def _node(node: NodeLike, *, what: str = "node") -> bytes:
    """Read a 32-byte node given as bytes or 0x-hex, the two shapes proofs travel in."""
    if type(node) is str and len(node) == 66 and node[:2] in ("0x", "0X"):
        try:
            raw = bytes.fromhex(node[2:])  # skips spaces, so the length check below stays
        except ValueError:
            raw = b""
    else:
        raw = bytes(node) if isinstance(node, bytes | bytearray | memoryview) else b""
    if len(raw) != 32:
        raise MerkleTreeError(f"{what} {node!r} is not 32 bytes as 0x-hex or bytes")
    return raw


def hash_pair(a: bytes, b: bytes) -> bytes:
    """Hash two nodes in sorted order, so proofs carry no left/right flags."""
    return keccak256(a + b if a < b else b + a)


_HEX = re.compile(r"0[xX](?:[0-9a-fA-F]{2})*")
_INT = re.compile(r"-?[0-9]+|0[xX][0-9a-fA-F]+")  # what BigInt() takes, less its whitespace
_WORDS = {"bytes", "address", "uint", "int", "bool"}


def _fail(abi_type: ABIType, value: Any, why: str) -> MerkleTreeError:
    return MerkleTreeError(f"cannot encode {value!r} as {abi_type.to_type_str()}: {why}")


def _coerce(abi_type: ABIType, value: Any) -> Any:
    """Read a JS-style value (hex strings, decimal strings) into what eth_abi takes."""
    if abi_type.is_array or isinstance(abi_type, TupleType):
        if isinstance(value, str | bytes | bytearray) or not isinstance(value, Sequence):
            raise _fail(abi_type, value, "expected a list")
        if abi_type.is_array:
            if (fixed := abi_type.arrlist[-1]) and len(value) != fixed[0]:
                raise _fail(abi_type, value, f"expected {fixed[0]} items")
            return [_coerce(abi_type.item_type, item) for item in value]
        parts = abi_type.components if isinstance(abi_type, TupleType) else ()
        if len(value) != len(parts):
            raise _fail(abi_type, value, f"expected {len(parts)} items")
        return tuple(_coerce(t, item) for t, item in zip(parts, value, strict=True))
    assert isinstance(abi_type, BasicType)
    base, sub = abi_type.base, abi_type.sub
    if base in ("bytes", "address"):
        if isinstance(value, bytes | bytearray | memoryview):
            raw = bytes(value)
        elif isinstance(value, str) and _HEX.fullmatch(value):
            raw = bytes.fromhex(value[2:])
        else:
            raise _fail(abi_type, value, "expected bytes or an even-length 0x-hex string")
        size = 20 if base == "address" else sub
        if isinstance(size, int) and len(raw) != size:
            raise _fail(abi_type, value, f"expected exactly {size} bytes")
        mixed = isinstance(value, str) and value[2:] not in (value[2:].lower(), value[2:].upper())
        if base == "address" and mixed and not is_checksum_address(value):
            raise _fail(abi_type, value, "mixed-case address with a bad EIP-55 checksum")
        return raw
    if base in ("uint", "int") and isinstance(sub, int):
        if isinstance(value, str) and _INT.fullmatch(value):
            number = int(value, 16 if value[:2] in ("0x", "0X") else 10)
        elif isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            raise _fail(abi_type, value, "expected an int or a decimal/0x string")
        bound = 1 << (sub - 1 if base == "int" else sub)
        if not (-bound if base == "int" else 0) <= number < bound:
            raise _fail(abi_type, value, "out of range")
        return number
    if base == "bool" and (isinstance(value, bool) or value in ("true", "false")):
        return value is True or value == "true"
    if base == "string" and isinstance(value, str):
        return value
    raise _fail(abi_type, value, "unsupported type or value")


def _word_encoder(abi_type: BasicType) -> Callable[[Any], bytes]:
    """A static elementary type's 32-byte word, ~10x faster than eth_abi for Lotlink's leaves."""
    base, sub, zero = abi_type.base, abi_type.sub, b"\0"
    if base == "address":  # cached: a batch repeats a handful of signers, each check a keccak
        cached = functools.lru_cache(4096)(lambda v: _coerce(abi_type, v).rjust(32, zero))
        return lambda v: cached(v) if type(v) is str else _coerce(abi_type, v).rjust(32, zero)
    if base != "bytes":
        return lambda v: int(_coerce(abi_type, v)).to_bytes(32, "big", signed=base == "int")

    size = int(sub)

    def fixed_bytes(value: Any) -> bytes:
        if type(value) is str and len(value) == 2 + 2 * size and value[:2] in ("0x", "0X"):
            try:  # fromhex skips spaces, so a spaced string comes out short and falls through
                if len(raw := bytes.fromhex(value[2:])) == size:
                    return raw.ljust(32, zero)
            except ValueError:
                pass
        return bytes(_coerce(abi_type, value)).ljust(32, zero)

    return fixed_bytes


@functools.lru_cache(maxsize=64)
def _encoder(types: tuple[str, ...]) -> Callable[[Sequence[Any]], bytes]:
    try:
        parsed = [parse(normalize(t)) for t in types]
        for abi_type in parsed:
            abi_type.validate()
    except Exception as exc:  # eth_abi raises parsimonious and ABIType errors alike
        raise MerkleTreeError(f"invalid leaf encoding {list(types)}: {exc}") from exc
    static = (t for t in parsed if isinstance(t, BasicType) and not t.is_array)
    words = [_word_encoder(t) for t in static if t.base in _WORDS and (t.base != "bytes" or t.sub)]
    type_strs, n = [t.to_type_str() for t in parsed], len(parsed)

    def encode(value: Sequence[Any]) -> bytes:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != n:
            raise MerkleTreeError(f"leaf {value!r} is not a list of {n} items {list(types)}")
        if len(words) == len(parsed):
            return b"".join([word(item) for word, item in zip(words, value, strict=True)])
        coerced = [_coerce(t, item) for t, item in zip(parsed, value, strict=True)]
        try:
            return eth_abi.encode(type_strs, coerced)
        except EncodingError as exc:
            raise MerkleTreeError(f"cannot encode {value!r} as {list(types)}: {exc}") from exc

    return encode


def leaf_hash(types: Sequence[str], value: Sequence[Any]) -> bytes:
    """keccak256(keccak256(abi.encode(value))): the leaf OZ's JS and Solidity side both compute."""
    return keccak256(keccak256(_encoder(tuple(types))(value)))


def process_proof(leaf: NodeLike, proof: Nodes) -> bytes:
    """Fold a proof from a leaf hash up to the root it implies (MerkleProof.processProof)."""
    node = _node(leaf, what="leaf")
    for sibling in proof:
        other = _node(sibling, what="proof element")  # hash_pair inlined: this loop is the hot path
        node = keccak256(node + other if node < other else other + node)
    return node


def verify_proof(*, root: NodeLike, leaf: NodeLike, proof: Nodes) -> bool:
    """True when ``proof`` links the leaf hash to ``root``; malformed nodes raise instead."""
    return process_proof(leaf, proof) == _node(root, what="root")


def process_multi_proof(*, leaves: Nodes, proof: Nodes, proof_flags: Sequence[bool]) -> bytes:
    """Rebuild the root from several leaf hashes at once (MerkleProof.processMultiProof)."""
    stack = deque(_node(leaf, what="leaf") for leaf in leaves)
    siblings = deque(_node(p, what="proof element") for p in proof)
    if len(siblings) < sum(1 for flag in proof_flags if not flag):
        raise MerkleTreeError("invalid multiproof: fewer proof elements than false flags")
    if len(stack) + len(siblings) != len(proof_flags) + 1:
        raise MerkleTreeError("invalid multiproof: leaves + proof must equal proofFlags + 1")
    for flag in proof_flags:
        if not stack or (flag and len(stack) < 2):
            raise MerkleTreeError("invalid multiproof: flags consume more nodes than given")
        a = stack.popleft()
        stack.append(hash_pair(a, stack.popleft() if flag else siblings.popleft()))
    return stack.pop() if stack else siblings.popleft()


def verify_multi_proof(
    *, root: NodeLike, leaves: Nodes, proof: Nodes, proof_flags: Sequence[bool]
) -> bool:
    """True when the multiproof rebuilds ``root`` from the leaf hashes, in the order given."""
    rebuilt = process_multi_proof(leaves=leaves, proof=proof, proof_flags=proof_flags)
    return rebuilt == _node(root, what="root")


def _to_json(value: Any) -> Any:
    """Write a leaf value so JSON.parse + abi-utils read it back to the same encoding."""
    if isinstance(value, bytes | bytearray | memoryview):
        return "0x" + bytes(value).hex()
    if isinstance(value, bool) or not isinstance(value, int):
        return [_to_json(v) for v in value] if isinstance(value, list | tuple) else value
    return str(value)  # a JSON number past 2**53 would lose digits in JavaScript


class StandardMerkleTree:
    """An immutable OZ standard tree; build it with :meth:`of` or :meth:`load`, not directly."""

    def __init__(
        self, *, tree: Sequence[bytes], values: Sequence[tuple[Any, int]], leaf_encoding: list[str]
    ) -> None:
        self._tree = tuple(tree)
        self._values, self._tree_indices = [v for v, _ in values], [t for _, t in values]
        self._leaf_encoding = list(leaf_encoding)
        self._hex = ["0x" + node.hex() for node in self._tree]
        # Like OZ's hashLookup: a duplicated value resolves to its last occurrence.
        self._lookup = {
            self._tree[t]: i for i, t in enumerate(self._tree_indices) if 0 <= t < len(self._tree)
        }

    @classmethod
    def of(
        cls, values: Sequence[Value], leaf_encoding: Sequence[str], *, sort_leaves: bool = True
    ) -> StandardMerkleTree:
        """Build a tree; sorted leaves (the default) are what on-chain multiproofs expect."""
        if not (n := len(values)):
            raise MerkleTreeError("expected a non-zero number of leaves")
        # leaf_hash and hash_pair inlined: a batch of 1,024 events hashes ~3,000 times here.
        encode, hash_ = _encoder(tuple(leaf_encoding)), keccak256
        hashes = [hash_(hash_(encode(value))) for value in values]
        order = sorted(range(n), key=hashes.__getitem__) if sort_leaves else range(n)
        tree, indices = [b""] * (2 * n - 1), [0] * n
        for position, value_index in enumerate(order):  # leaves fill the array from its end
            tree[2 * n - 2 - position] = hashes[value_index]
            indices[value_index] = 2 * n - 2 - position
        for i in range(n - 2, -1, -1):
            a, b = tree[2 * i + 1], tree[2 * i + 2]
            tree[i] = hash_(a + b if a < b else b + a)
        entries = list(zip(values, indices, strict=True))
        return cls(tree=tree, values=entries, leaf_encoding=list(leaf_encoding))

    @classmethod
    def load(cls, dump: Mapping[str, Any]) -> StandardMerkleTree:
        """Read a ``standard-v1`` dump (from :meth:`dump` or OZ's JS) and check every hash in it."""
        if not isinstance(dump, Mapping) or dump.get("format") != FORMAT:
            found = dump.get("format") if isinstance(dump, Mapping) else type(dump).__name__
            raise MerkleTreeError(f"unknown dump format {found!r}; expected {FORMAT!r}")
        encoding, tree, values = dump.get("leafEncoding"), dump.get("tree"), dump.get("values")
        if not (isinstance(encoding, list) and isinstance(tree, list) and isinstance(values, list)):
            raise MerkleTreeError("dump needs 'leafEncoding', 'tree' and 'values' lists")
        if not all(isinstance(t, str) for t in encoding):
            raise MerkleTreeError(f"leafEncoding {encoding!r} is not a list of type strings")
        nodes = [_node(node, what=f"tree[{i}]") for i, node in enumerate(tree)]
        entries: list[tuple[Any, int]] = [
            (v.get("value"), v.get("treeIndex", -1)) if isinstance(v, Mapping) else (0, 0)
            for v in values
        ]
        for i, (value, tree_index) in enumerate(entries):
            if type(tree_index) is not int or not isinstance(value, list):
                raise MerkleTreeError(f"values[{i}] needs a 'value' list and an int 'treeIndex'")
        loaded = cls(tree=nodes, values=entries, leaf_encoding=encoding)
        loaded.validate()
        return loaded

    def validate(self) -> None:
        """Check every value hashes to its leaf and every inner node to its children."""
        size = len(self._tree)
        if size == 0 or size % 2 == 0:
            raise MerkleTreeError(f"a tree has an odd, non-zero number of nodes, not {size}")
        for i, (value, tree_index) in enumerate(zip(self._values, self._tree_indices, strict=True)):
            if not (size // 2 <= tree_index < size):
                raise MerkleTreeError(f"values[{i}] has treeIndex {tree_index}, not a leaf")
            if self._tree[tree_index] != leaf_hash(self._leaf_encoding, value):
                raise MerkleTreeError(f"values[{i}] does not hash to tree[{tree_index}]")
        for i in range(size // 2 - 1, -1, -1):
            if self._tree[i] != hash_pair(self._tree[2 * i + 1], self._tree[2 * i + 2]):
                raise MerkleTreeError(f"tree[{i}] is not the hash of its children")

    @property
    def root(self) -> str:
        """The root as 0x-hex, the value a contract stores."""
        return "0x" + self._tree[0].hex()

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        """Yield (value index, value) in the order the values were given, like OZ's entries()."""
        return iter(enumerate(self._values))

    def leaves(self) -> list[str]:
        """Each value's leaf hash as 0x-hex, in the order the values were given."""
        nodes = self._hex
        return [nodes[tree_index] for tree_index in self._tree_indices]

    def leaf_lookup(self, value: Sequence[Any]) -> int:
        """The value index of ``value``; raises when it is not in the tree."""
        found = self._lookup.get(leaf_hash(self._leaf_encoding, value))
        if found is None:
            raise MerkleTreeError(f"leaf {value!r} is not in the tree")
        return found

    def _value_index(self, index_or_value: int | Value) -> int:
        if isinstance(index_or_value, Sequence):
            return self.leaf_lookup(index_or_value)
        if type(index_or_value) is int and 0 <= index_or_value < len(self):
            return index_or_value
        raise MerkleTreeError(f"index {index_or_value!r} is out of range for {len(self)} values")

    def get_proof(self, index_or_value: int | Value) -> list[str]:
        """Sibling hashes from the leaf up; no re-verification, as the tree was checked once."""
        tree_index = self._tree_indices[self._value_index(index_or_value)]
        nodes = self._hex
        proof = []
        while tree_index > 0:
            proof.append(nodes[tree_index + 1 if tree_index % 2 else tree_index - 1])
            tree_index = (tree_index - 1) // 2
        return proof

    def proofs(self) -> list[list[str]]:
        """Every value's `get_proof`, in value order, in one pass down the tree: a node's path
        is its sibling and then its parent's path (a batch's receipts want them all)."""
        nodes = self._hex
        paths: list[list[str]] = [[]] * len(nodes)
        for i in range(1, len(nodes)):
            paths[i] = [nodes[i + 1 if i % 2 else i - 1], *paths[(i - 1) // 2]]
        return [paths[tree_index] for tree_index in self._tree_indices]

    def get_multi_proof(self, indices: Sequence[int | Value]) -> dict[str, list[Any]]:
        """OZ's multiproof: ``leaves`` (values, in submission order), ``proof``, ``proofFlags``."""
        tree_indices = sorted(
            (self._tree_indices[self._value_index(i)] for i in indices), reverse=True
        )
        if len(set(tree_indices)) != len(tree_indices):
            raise MerkleTreeError("cannot prove a duplicated index")
        nodes = self._hex
        stack = deque(tree_indices)
        proof, flags = list[str](), list[bool]()
        while stack and stack[0] > 0:
            j = stack.popleft()
            sibling = j + 1 if j % 2 else j - 1
            if stack and stack[0] == sibling:
                flags.append(True)
                stack.popleft()
            else:
                flags.append(False)
                proof.append(nodes[sibling])
            stack.append((j - 1) // 2)
        if not tree_indices:
            proof.append(nodes[0])
        leaves = [self._values[self._lookup[self._tree[j]]] for j in tree_indices]
        return {"leaves": leaves, "proof": proof, "proofFlags": flags}

    def _leaf(self, index_or_value: int | Value) -> bytes:
        if isinstance(index_or_value, Sequence):
            return leaf_hash(self._leaf_encoding, index_or_value)
        return self._tree[self._tree_indices[self._value_index(index_or_value)]]

    def verify(self, index_or_value: int | Value, proof: Nodes) -> bool:
        """True when ``proof`` proves the value (or the value at an index) against this root."""
        return process_proof(self._leaf(index_or_value), proof) == self._tree[0]

    def verify_multi_proof(self, multiproof: Mapping[str, Sequence[Any]]) -> bool:
        """Check a ``{leaves, proof, proofFlags}`` mapping whose leaves are values or indices."""
        return self._tree[0] == process_multi_proof(
            leaves=[self._leaf(leaf) for leaf in multiproof["leaves"]],
            proof=multiproof["proof"],
            proof_flags=multiproof["proofFlags"],
        )

    def dump(self) -> dict[str, Any]:
        """The ``standard-v1`` dump, key for key what OZ's ``dump()`` writes."""
        return {
            "format": FORMAT,
            "leafEncoding": list(self._leaf_encoding),
            "tree": list(self._hex),
            "values": [
                {"value": _to_json(value), "treeIndex": tree_index}
                for value, tree_index in zip(self._values, self._tree_indices, strict=True)
            ],
        }
