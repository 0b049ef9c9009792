"""Batch manifests: the content-addressed document that says what a Merkle root anchors.

A manifest lists every event of a batch with its signature and the exact EPCIS JSON that was
hashed, so anyone holding it can rebuild the tree, check each signature, and re-hash each event
without this service. Its keccak256 is the ``manifestHash`` anchored with the root, so its bytes
are fixed once written: canonical JSON (sorted keys, no whitespace, UTF-8), built only here.

Events appear in the order their leaves were given to the tree (``index``); rebuilding
``StandardMerkleTree.of([(digest, lotKey, signer) for each event], LEAF_ENCODING)`` yields
``root``, and ``get_proof(index)`` each event's proof.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from lotlink.chain.merkle import StandardMerkleTree, keccak256
from lotlink.errors import LotlinkError
from lotlink.vocabulary import CheckpointKind

FORMAT = "lotlink-batch-manifest"
VERSION = 1
#: What each leaf encodes, in the contracts' `checkpointLeaf` order.
LEAF_ENCODING = ("bytes32", "bytes32", "address")


class ManifestError(LotlinkError):
    """Raised when a manifest cannot be read, or its bytes do not hash to the expected value."""

    def __init__(self, *, manifest_hash: str, reason: str) -> None:
        super().__init__(f"manifest {manifest_hash}: {reason}")
        self.manifest_hash = manifest_hash


@dataclass(frozen=True, slots=True)
class ManifestEvent:
    """One event as a batch anchors it: the leaf's three values and what justifies them."""

    digest: str
    event_id: str
    lot_key: str
    kind: CheckpointKind
    signer: str
    signature: str
    epcis_json: str

    @property
    def leaf_value(self) -> tuple[str, str, str]:
        return (self.digest, self.lot_key, to_checksum_address(self.signer))


@dataclass(frozen=True, slots=True)
class Manifest:
    """A built manifest: its canonical bytes, their keccak256, and the tree they describe."""

    content: bytes
    manifest_hash: str
    root: str
    tree: StandardMerkleTree
    events: tuple[ManifestEvent, ...]

    @property
    def text(self) -> str:
        return self.content.decode("utf-8")


def canonical_json(document: Any) -> bytes:
    """The one byte form of a JSON document that Lotlink hashes."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def manifest_hash_of(content: bytes) -> str:
    """keccak256 of a manifest's bytes as 0x-hex, the value `anchorBatch` records."""
    return "0x" + keccak256(content).hex()


def build_manifest(
    events: Sequence[ManifestEvent], *, chain_id: int, contract_address: str
) -> Manifest:
    """The manifest of a batch of `events`, in the given order (which fixes each ``index``)."""
    tree = StandardMerkleTree.of([e.leaf_value for e in events], LEAF_ENCODING)
    dump = tree.dump()
    leaves = [dump["tree"][value["treeIndex"]] for value in dump["values"]]
    document = {
        "format": FORMAT,
        "version": VERSION,
        "chainId": chain_id,
        "contract": to_checksum_address(contract_address),
        "root": tree.root,
        "leafEncoding": list(LEAF_ENCODING),
        "eventCount": len(events),
        "events": [
            {
                "index": index,
                "digest": event.digest,
                "eventID": event.event_id,
                "lotKey": event.lot_key,
                "kind": event.kind.value,
                "kindCode": event.kind.code,
                "signer": to_checksum_address(event.signer),
                "signature": event.signature,
                "leaf": leaves[index],
                # The exact text that was hashed and signed, kept as a string so that a rebuilt
                # index stores the same bytes as the live one.
                "epcisEvent": event.epcis_json,
            }
            for index, event in enumerate(events)
        ],
    }
    content = canonical_json(document)
    return Manifest(
        content=content,
        manifest_hash=manifest_hash_of(content),
        root=tree.root,
        tree=tree,
        events=tuple(events),
    )


def parse_manifest(content: bytes, *, expected_hash: str | None = None) -> Manifest:
    """Read a manifest's bytes back, checking its hash (when given), its form and its root."""
    actual = manifest_hash_of(content)
    shown = expected_hash or actual
    if expected_hash is not None and actual != expected_hash.lower():
        raise ManifestError(manifest_hash=shown, reason=f"its bytes hash to {actual}")
    try:
        document = json.loads(content)
        if document.get("format") != FORMAT or document.get("version") != VERSION:
            raise ValueError("unknown format or version")
        events = tuple(
            ManifestEvent(
                digest=e["digest"],
                event_id=e["eventID"],
                lot_key=e["lotKey"],
                kind=CheckpointKind(e["kind"]),
                signer=e["signer"],
                signature=e["signature"],
                epcis_json=e["epcisEvent"],
            )
            for e in document["events"]
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        reason = f"not a Lotlink manifest ({error})"
        raise ManifestError(manifest_hash=shown, reason=reason) from None
    rebuilt = build_manifest(
        events, chain_id=int(document["chainId"]), contract_address=document["contract"]
    )
    if rebuilt.content != content:
        raise ManifestError(manifest_hash=shown, reason="not in canonical form or root differs")
    return rebuilt


class ManifestStore:
    """Manifests as files named by their hash under a directory (``var/manifests``).

    The database keeps every manifest too; these files are what a static server or a pinning
    service publishes. Writes are atomic (a temporary file renamed into place, fsynced).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_of(self, manifest_hash: str) -> Path:
        return self.directory / f"{manifest_hash.lower()}.json"

    def write(self, manifest: Manifest) -> Path:
        path = self.path_of(manifest.manifest_hash)
        if path.exists() and path.stat().st_size == len(manifest.content):
            return path
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".manifest-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(manifest.content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path

    def read(self, manifest_hash: str) -> bytes | None:
        """The stored bytes, checked against their name; None when absent or corrupt."""
        try:
            content = self.path_of(manifest_hash).read_bytes()
        except OSError:
            return None
        return content if manifest_hash_of(content) == manifest_hash.lower() else None
