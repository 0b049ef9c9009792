"""StandardMerkleTree against the published vector and against OZ's npm library as an oracle.

The oracle is contracts/node_modules/@openzeppelin/merkle-tree itself, run once for every shape
through tests/chain/oz_merkle_oracle.cjs: Python's dumps and proofs must satisfy it, and its dumps
and proofs must come out of Python byte for byte.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import eth_abi
import pytest
from eth_hash.auto import keccak as reference_keccak
from eth_utils import to_checksum_address

from lotlink.chain.merkle import (
    MerkleTreeError,
    StandardMerkleTree,
    hash_pair,
    keccak256,
    leaf_hash,
    process_proof,
    verify_multi_proof,
    verify_proof,
)

REPO = Path(__file__).resolve().parents[2]
ORACLE = Path(__file__).with_name("oz_merkle_oracle.cjs")
OZ_PACKAGE = REPO / "contracts/node_modules/@openzeppelin/merkle-tree"
LOTLINK_ENCODING = ["bytes32", "bytes32", "address"]  # event digest, lot key, signer
MIXED_ENCODING = ["uint256", "int8", "bool", "bytes4", "string", "bytes", "address[]"]
SIZES = [1, 2, 3, 7, 64, 1025]

VECTOR_ROOT = "0x6deb52b5da8fd108f79fab00341f38d2587896634c646ee52e49f845680a70c8"
VECTOR_LEAF_A = "0x9c15a6a0eaeed500fd9eed4cbeab71f797cefcc67bfd46683e4d2e6ff7f06d1c"
VECTOR_PROOF_A = [
    "0x9cf5a63718145ba968a01c1d557020181c5b252f665cf7386d370eddb176517b",
    "0x965b92c6cf08303cc4feb7f3e0819c436c2cec17c6f0688a6af139c9a368707c",
    "0xfd3cf45654e88d1cc5d663578c82c76f4b5e3826bacaa1216441443504538f51",
]


def lotlink_values(count: int, *, seed: int) -> list[list[Any]]:
    """Leaves as Lotlink builds them: digest as hex, lot key as bytes, a few checksummed signers."""
    rng = random.Random(seed)
    signers = [to_checksum_address(rng.randbytes(20)) for _ in range(3)]
    return [
        ["0x" + rng.randbytes(32).hex(), rng.randbytes(32), rng.choice(signers)]
        for _ in range(count)
    ]


def mixed_values() -> list[list[Any]]:
    """JSON-form values of every coercion path, including the eth_abi (dynamic) one."""
    rng = random.Random(7)
    return [
        [
            str(rng.getrandbits(256)),
            str(rng.randint(-128, 127)),
            rng.random() < 0.5,
            "0x" + rng.randbytes(4).hex(),
            "héllo " * i,
            "0x" + rng.randbytes(i * 7).hex(),
            [to_checksum_address(rng.randbytes(20)) for _ in range(i)],
        ]
        for i in range(5)
    ]


def as_json(values: list[list[Any]]) -> list[list[Any]]:
    return [[("0x" + v.hex()) if isinstance(v, bytes) else v for v in value] for value in values]


SHAPES: dict[str, tuple[list[str], list[list[Any]]]] = {
    f"lotlink-{n}": (LOTLINK_ENCODING, lotlink_values(n, seed=n)) for n in SIZES
}
SHAPES["mixed-5"] = (MIXED_ENCODING, mixed_values())


def multi_indices(count: int) -> list[int]:
    return sorted({0, count // 3, count // 2, count - 1})


@pytest.fixture(scope="module")
def oracle() -> dict[str, dict[str, Any]]:
    """Run OZ's library once over every shape; fail (never skip) when it cannot run."""
    node = shutil.which("node")
    if node is None or not (OZ_PACKAGE / "package.json").is_file():
        pytest.fail(
            "the OZ oracle needs `node` on PATH and contracts/node_modules/@openzeppelin/"
            "merkle-tree (run `npm ci` in contracts/)"
        )
    shapes = []
    for encoding, values in SHAPES.values():
        tree = StandardMerkleTree.of(values, encoding)
        shapes.append(
            {
                "encoding": encoding,
                "values": as_json(values),
                "indices": multi_indices(len(values)),
                "pythonDump": tree.dump(),
                "pythonProofs": [tree.get_proof(i) for i in range(len(values))],
                "pythonMulti": tree.get_multi_proof(multi_indices(len(values))),
            }
        )
    payload = json.dumps({"shapes": shapes}, default=lambda v: "0x" + v.hex())
    run = subprocess.run(
        [node, str(ORACLE)], input=payload, capture_output=True, text=True, timeout=120
    )
    if run.returncode != 0:
        pytest.fail(f"the OZ oracle failed: {run.stderr.strip()}")
    results = json.loads(run.stdout)["results"]
    return dict(zip(SHAPES, results, strict=True))


def test_standard_vector_from_the_reference() -> None:
    tree = StandardMerkleTree.of([[c] for c in "abcdef"], ["string"])
    assert tree.root == VECTOR_ROOT
    assert "0x" + leaf_hash(["string"], ["a"]).hex() == VECTOR_LEAF_A
    assert tree.get_proof(["a"]) == VECTOR_PROOF_A
    assert tree.get_proof(0) == VECTOR_PROOF_A
    assert verify_proof(root=VECTOR_ROOT, leaf=VECTOR_LEAF_A, proof=VECTOR_PROOF_A)
    assert list(tree) == [(i, [c]) for i, c in enumerate("abcdef")]


@pytest.mark.parametrize("shape", list(SHAPES))
def test_python_tree_is_accepted_by_oz(shape: str, oracle: dict[str, dict[str, Any]]) -> None:
    encoding, values = SHAPES[shape]
    tree = StandardMerkleTree.of(values, encoding)
    answer = oracle[shape]
    assert answer["loadedRoot"] == tree.root
    assert all(answer["pythonProofsOk"])
    assert len(answer["pythonProofsOk"]) == len(values)
    assert answer["pythonMultiOk"] is True


@pytest.mark.parametrize("shape", list(SHAPES))
def test_oz_tree_is_reproduced_by_python(shape: str, oracle: dict[str, dict[str, Any]]) -> None:
    encoding, values = SHAPES[shape]
    answer = oracle[shape]
    loaded = StandardMerkleTree.load(answer["nodeDump"])
    assert loaded.dump() == answer["nodeDump"]
    assert [loaded.get_proof(i) for i in range(len(values))] == answer["nodeProofs"]
    assert loaded.get_multi_proof(multi_indices(len(values))) == answer["nodeMulti"]
    assert loaded.verify_multi_proof(answer["nodeMulti"])
    rebuilt = StandardMerkleTree.of(as_json(values), encoding)
    assert rebuilt.dump() == answer["nodeDump"]
    assert StandardMerkleTree.of(values, encoding).root == answer["nodeDump"]["tree"][0]


@pytest.fixture(scope="module")
def tree() -> StandardMerkleTree:
    return StandardMerkleTree.of(lotlink_values(7, seed=99), LOTLINK_ENCODING)


def test_every_proof_verifies_and_wrong_ones_do_not(tree: StandardMerkleTree) -> None:
    leaves = [leaf_hash(LOTLINK_ENCODING, value) for _, value in tree]
    for i, leaf in enumerate(leaves):
        proof = tree.get_proof(i)
        assert verify_proof(root=tree.root, leaf=leaf, proof=proof)
        assert tree.verify(i, proof)
        tampered = [*proof[:-1], "0x" + bytes(32).hex()]
        assert not verify_proof(root=tree.root, leaf=leaf, proof=tampered)
        swapped = leaves[(i + 1) % len(leaves)]
        assert not verify_proof(root=tree.root, leaf=swapped, proof=proof)
        assert not verify_proof(root=keccak256(b"another batch"), leaf=leaf, proof=proof)


def test_multiproof_verifies_and_tampering_fails(tree: StandardMerkleTree) -> None:
    multi = tree.get_multi_proof([5, 1, 3])
    assert tree.verify_multi_proof(multi)
    hashes = [leaf_hash(LOTLINK_ENCODING, v) for v in multi["leaves"]]
    assert verify_multi_proof(
        root=tree.root, leaves=hashes, proof=multi["proof"], proof_flags=multi["proofFlags"]
    )
    assert not verify_multi_proof(
        root=tree.root, leaves=hashes[::-1], proof=multi["proof"], proof_flags=multi["proofFlags"]
    )
    with pytest.raises(MerkleTreeError, match="must equal"):
        verify_multi_proof(root=tree.root, leaves=hashes, proof=[], proof_flags=[True])
    with pytest.raises(MerkleTreeError, match="duplicated"):
        tree.get_multi_proof([1, 1])


def test_load_rejects_tampered_dumps(tree: StandardMerkleTree) -> None:
    dump = tree.dump()
    assert StandardMerkleTree.load(json.loads(json.dumps(dump))).root == tree.root
    for index, why in [
        (0, "tree\\[0\\] is not the hash"),
        (len(dump["tree"]) - 1, "does not hash"),
    ]:
        bad = json.loads(json.dumps(dump))
        bad["tree"][index] = "0x" + bytes(32).hex()
        with pytest.raises(MerkleTreeError, match=why):
            StandardMerkleTree.load(bad)
    swapped = json.loads(json.dumps(dump))
    swapped["values"][0]["value"], swapped["values"][1]["value"] = (
        swapped["values"][1]["value"],
        swapped["values"][0]["value"],
    )
    with pytest.raises(MerkleTreeError, match="does not hash"):
        StandardMerkleTree.load(swapped)
    with pytest.raises(MerkleTreeError, match="unknown dump format"):
        StandardMerkleTree.load({**dump, "format": "simple-v1"})
    with pytest.raises(MerkleTreeError, match="not 32 bytes"):
        StandardMerkleTree.load({**dump, "tree": ["0x1234", *dump["tree"][1:]]})
    with pytest.raises(MerkleTreeError, match="odd"):
        StandardMerkleTree.load({**dump, "tree": dump["tree"][:-1], "values": []})


def test_unknown_values_and_bad_indices_raise(tree: StandardMerkleTree) -> None:
    with pytest.raises(MerkleTreeError, match="out of range"):
        tree.get_proof(len(tree))
    with pytest.raises(MerkleTreeError, match="out of range"):
        tree.get_proof(-1)
    with pytest.raises(MerkleTreeError, match="not in the tree"):
        tree.get_proof(lotlink_values(1, seed=12345)[0])
    with pytest.raises(MerkleTreeError, match="expected a non-zero number"):
        StandardMerkleTree.of([], LOTLINK_ENCODING)


def test_addresses_and_bytes_read_like_oz() -> None:
    digest, lot = "0x" + "11" * 32, bytes.fromhex("22" * 32)
    signer = to_checksum_address("0x" + "ab" * 20)
    leaf = leaf_hash(LOTLINK_ENCODING, [digest, lot, signer])
    assert leaf == leaf_hash(
        LOTLINK_ENCODING, [bytes.fromhex("11" * 32), "0x" + "22" * 32, signer.lower()]
    )
    bad_checksum = signer[:2] + signer[2:].swapcase()
    with pytest.raises(MerkleTreeError, match="checksum"):
        leaf_hash(LOTLINK_ENCODING, [digest, lot, bad_checksum])
    with pytest.raises(MerkleTreeError, match="exactly 32 bytes"):
        leaf_hash(LOTLINK_ENCODING, ["0x11", lot, signer])
    with pytest.raises(MerkleTreeError, match="3 items"):
        leaf_hash(LOTLINK_ENCODING, [digest, lot])


def test_fast_word_encoder_matches_eth_abi() -> None:
    rng = random.Random(3)
    types = ["uint256", "int64", "bool", "bytes4", "address", "uint8"]
    for _ in range(200):
        value = [
            rng.getrandbits(256),
            rng.randint(-(2**63), 2**63 - 1),
            rng.random() < 0.5,
            rng.randbytes(4),
            "0x" + rng.randbytes(20).hex(),
            rng.randint(0, 255),
        ]
        expected = reference_keccak(reference_keccak(eth_abi.encode(types, value)))
        assert leaf_hash(types, value) == expected
    with pytest.raises(MerkleTreeError, match="out of range"):
        leaf_hash(["uint8"], [256])


def test_keccak_matches_eth_hash_across_threads() -> None:
    payloads = [bytes(range(256))[:n] * 3 for n in range(0, 256, 5)]
    assert [keccak256(p) for p in payloads] == [reference_keccak(p) for p in payloads]
    failures: list[bytes] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(2000):
            data = rng.randbytes(rng.randint(0, 300))
            if keccak256(data) != reference_keccak(data):
                failures.append(data)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert hash_pair(b"\1" * 32, b"\0" * 32) == keccak256(b"\0" * 32 + b"\1" * 32)
    assert process_proof(b"\0" * 32, []) == b"\0" * 32


def test_leaves_are_each_values_leaf_in_the_order_given(tree: StandardMerkleTree) -> None:
    expected = ["0x" + leaf_hash(LOTLINK_ENCODING, value).hex() for _, value in tree]
    assert tree.leaves() == expected
    dump = tree.dump()
    assert tree.leaves() == [dump["tree"][v["treeIndex"]] for v in dump["values"]]


def test_bytes32_as_text_must_be_hex_of_its_exact_length() -> None:
    lot, signer = "0x" + "22" * 32, to_checksum_address("0x" + "ab" * 20)
    upper = leaf_hash(LOTLINK_ENCODING, ["0X" + "11" * 32, lot, signer])
    assert upper == leaf_hash(LOTLINK_ENCODING, ["0x" + "11" * 32, lot, signer])
    # Right length, but spaces (which bytes.fromhex skips) or non-hex digits inside.
    for bad in ("0x" + "11" * 31 + "  ", "0x" + "1 " * 32, "0x" + "zz" * 32):
        with pytest.raises(MerkleTreeError, match="0x-hex"):
            leaf_hash(LOTLINK_ENCODING, [bad, lot, signer])


@pytest.mark.parametrize("size", SIZES)
def test_all_proofs_at_once_are_each_values_proof(size: int) -> None:
    tree = StandardMerkleTree.of(lotlink_values(size, seed=size), LOTLINK_ENCODING)
    proofs = tree.proofs()
    assert proofs == [tree.get_proof(i) for i in range(size)]
    assert all(tree.verify(i, proof) for i, proof in enumerate(proofs))
