"""Manifests: canonical bytes, content-addressed, and enough to rebuild the tree and its proofs."""

from __future__ import annotations

import json

import pytest

from lotlink.anchoring.manifest import (
    LEAF_ENCODING,
    ManifestError,
    ManifestEvent,
    ManifestLot,
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
    lot = "0x" + "ab" * 32
    return [
        ManifestEvent(
            digest="0x" + f"{i + 1:064x}",
            event_id=f"ni:///sha-256;{i + 1:064x}?ver=CBV2.0",
            lot_key="0x" + "ab" * 32,
            kind=CheckpointKind.INSPECTED,
            signer=SIGNER,
            signature="0x" + "cd" * 65,
            epcis_json='{"type":"EPCISDocument","note":"café"}',
            record_time="2026-03-01T08:00:00.123456+00:00",
            lots=(ManifestLot(lot, None if i == 0 else f"0x{i:064x}", 1000 * i, "KGM"),),
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


def test_version_2_carries_each_lot_link_and_version_1_still_parses() -> None:
    events = _events(2)
    manifest = build_manifest(events, chain_id=31337, contract_address=CONTRACT)
    document = json.loads(manifest.content)
    assert document["version"] == 2
    assert document["events"][1]["lots"] == [
        {
            "lotKey": "0x" + "ab" * 32,
            "previous": f"0x{1:064x}",
            "quantityMilli": 1000,
            "unit": "KGM",
        }
    ]
    assert parse_manifest(manifest.content).events == tuple(events)

    old = build_manifest(events, chain_id=31337, contract_address=CONTRACT, version=1)
    assert b'"lots"' not in old.content and b'"recordTime"' not in old.content
    parsed = parse_manifest(old.content, expected_hash=old.manifest_hash)
    assert parsed.version == 1 and parsed.root == manifest.root
    assert all(e.lots is None and e.record_time is None for e in parsed.events)


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
