"""Manifests: canonical bytes, content-addressed, and enough to rebuild the tree and its proofs."""

from __future__ import annotations

import dataclasses
import json

import pytest

from lotlink.anchoring.manifest import (
    LEAF_ENCODING,
    BuiltManifests,
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


def _as_the_database_gives_them(n: int) -> list[ManifestEvent]:
    """Events as a batch reads them from SQL: lowercase signer, lots in no particular order."""
    other = "0x" + "01" * 32
    return [
        dataclasses.replace(
            event,
            signer=event.signer.lower(),
            lots=(*(event.lots or ()), ManifestLot(other, None, None, None)),
        )
        for event in _events(n)
    ]


@pytest.mark.parametrize("version", [1, 2])
def test_a_built_manifest_is_what_parsing_its_bytes_gives(version: int) -> None:
    events = _as_the_database_gives_them(4)
    manifest = build_manifest(events, chain_id=31337, contract_address=CONTRACT, version=version)
    parsed = parse_manifest(manifest.content, expected_hash=manifest.manifest_hash)
    assert parsed == manifest  # so the anchorer and the indexer may use the one they built
    assert manifest.events[0].signer == SIGNER
    if version == 2:
        assert [lot.lot_key for lot in manifest.events[0].lots or ()] == [
            "0x" + "01" * 32,
            "0x" + "ab" * 32,
        ]
    assert parsed.tree.root == manifest.tree.root
    assert parsed.tree.leaves() == manifest.tree.leaves()
    assert [parsed.tree.get_proof(i) for i in range(4)] == [
        manifest.tree.get_proof(i) for i in range(4)
    ]


def test_built_manifests_answer_only_for_the_same_bytes_and_keep_the_newest() -> None:
    first = build_manifest(_events(3), chain_id=31337, contract_address=CONTRACT)
    second = build_manifest(_events(4), chain_id=31337, contract_address=CONTRACT)
    built = BuiltManifests(max_events=5)
    built.add(first)
    assert built.get(first.manifest_hash.upper().replace("0X", "0x")) is first
    assert built.get(first.manifest_hash, content=first.content) is first
    assert built.get(first.manifest_hash, content=first.content + b" ") is None
    assert built.get(second.manifest_hash) is None
    built.add(second)  # 7 events in all: the older one goes, the newest stays though above 5
    assert built.get(first.manifest_hash) is None
    assert built.get(second.manifest_hash) is second
    built.clear()
    assert built.get(second.manifest_hash) is None
