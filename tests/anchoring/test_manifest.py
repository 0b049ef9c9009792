"""Manifests: canonical bytes, content-addressed, and enough to rebuild the tree and its proofs."""

from __future__ import annotations

import pytest

from lotlink.anchoring.manifest import (
    LEAF_ENCODING,
    ManifestError,
    ManifestEvent,
    ManifestStore,
    build_manifest,
    manifest_hash_of,
    parse_manifest,
)
from lotlink.chain.merkle import StandardMerkleTree, verify_proof
from lotlink.vocabulary import CheckpointKind

SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def _events(n: int) -> list[ManifestEvent]:
    return [
        ManifestEvent(
            digest="0x" + f"{i + 1:064x}",
            event_id=f"ni:///sha-256;{i + 1:064x}?ver=CBV2.0",
            lot_key="0x" + "ab" * 32,
            kind=CheckpointKind.INSPECTED,
            signer=SIGNER,
            signature="0x" + "cd" * 65,
            epcis_json='{"type":"EPCISDocument","note":"café"}',
        )
        for i in range(n)
    ]


def test_a_manifest_rebuilds_its_tree_and_every_proof() -> None:
    manifest = build_manifest(_events(5), chain_id=31337, contract_address=CONTRACT.lower())
    assert manifest.manifest_hash == manifest_hash_of(manifest.content)
    assert b" " not in manifest.content.split(b'"events"')[0]  # compact, canonical
    tree = StandardMerkleTree.of([e.leaf_value for e in manifest.events], LEAF_ENCODING)
    assert tree.root == manifest.root
    for index, event in enumerate(manifest.events):
        leaf = tree.dump()["tree"][tree.dump()["values"][index]["treeIndex"]]
        assert verify_proof(root=manifest.root, leaf=leaf, proof=tree.get_proof(index))
        assert event.epcis_json.endswith('"café"}')
    again = parse_manifest(manifest.content, expected_hash=manifest.manifest_hash)
    assert again.content == manifest.content


def test_altered_or_non_canonical_bytes_are_refused() -> None:
    manifest = build_manifest(_events(2), chain_id=31337, contract_address=CONTRACT)
    altered = manifest.content.replace(b"INSPECTED".lower(), b"shipped")
    with pytest.raises(ManifestError, match="hash to"):
        parse_manifest(altered, expected_hash=manifest.manifest_hash)
    with pytest.raises(ManifestError, match="canonical"):
        parse_manifest(manifest.content.replace(b'{"chainId"', b'{ "chainId"'))


def test_the_store_names_files_by_hash_and_ignores_corrupt_ones(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = ManifestStore(tmp_path / "manifests")
    manifest = build_manifest(_events(1), chain_id=1, contract_address=CONTRACT)
    path = store.write(manifest)
    assert path.name == f"{manifest.manifest_hash}.json"
    assert store.read(manifest.manifest_hash) == manifest.content
    path.write_bytes(b"{}")
    assert store.read(manifest.manifest_hash) is None
