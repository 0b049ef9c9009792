"""Batch manifests as the indexer reads them: found in the local store the anchorer writes
(``var/manifests/<hash>.json``) or fetched from the URI the batch names, then checked.

A manifest is accepted only when keccak256 of its exact bytes is the ``manifestHash`` anchored
on chain and the Merkle tree its events rebuild has the anchored root and count. Anything else
is marked on the batch (`ManifestStatus.UNAVAILABLE` or `MISMATCH`) with the reason, reported,
and none of its events is shown as anchored.

The format is the anchorer's canonical JSON (``lotlink-batch-manifest`` version 1): an
``events`` list whose ``index``, ``digest``, ``lotKey`` and ``signer`` give each leaf.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from lotlink.chain.merkle import StandardMerkleTree, keccak256
from lotlink.models import ManifestStatus

log = logging.getLogger(__name__)

FORMAT = "lotlink-batch-manifest"
LEAF_ENCODING = ("bytes32", "bytes32", "address")
#: A manifest of 65,536 events (the largest batch) with their EPCIS JSON stays far below this.
MAX_MANIFEST_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ManifestLeaf:
    """One event a verified manifest anchors, with its proof to the batch root."""

    digest: str
    lot_key: str
    signer: str
    leaf: str
    proof: list[str]


@dataclass
class ManifestResult:
    """The outcome of resolving one batch's manifest."""

    status: ManifestStatus
    reason: str | None = None
    source: str | None = None
    leaves: list[ManifestLeaf] = field(default_factory=list)


class ManifestResolver:
    """Finds and checks manifests: the local store first, then the batch's URI over HTTP(S)."""

    def __init__(self, store_dir: Path | None, *, timeout: float = 10.0) -> None:
        self.store_dir = store_dir
        self.timeout = timeout

    def resolve(self, *, root: str, manifest_hash: str, count: int, uri: str) -> ManifestResult:
        content, source, why = self._read_local(manifest_hash)
        if content is None:
            content, source, why = self._fetch(uri)
        if content is None:
            return ManifestResult(ManifestStatus.UNAVAILABLE, reason=why, source=source)
        return verify_manifest(
            content, root=root, manifest_hash=manifest_hash, count=count, source=source
        )

    def _read_local(self, manifest_hash: str) -> tuple[bytes | None, str | None, str | None]:
        if self.store_dir is None:
            return None, None, None
        path = self.store_dir / f"{manifest_hash.lower()}.json"
        try:
            return path.read_bytes(), str(path), None
        except OSError:
            return None, None, None

    def _fetch(self, uri: str) -> tuple[bytes | None, str | None, str | None]:
        if not uri.startswith(("http://", "https://")):
            return None, uri or None, f"no local copy and no HTTP(S) address ({uri!r})"
        try:
            with (
                httpx.Client(timeout=self.timeout, follow_redirects=True) as client,
                client.stream("GET", uri) as response,
            ):
                if response.status_code != 200:
                    return None, uri, f"GET {uri} answered HTTP {response.status_code}"
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_MANIFEST_BYTES:
                        return None, uri, f"GET {uri}: larger than {MAX_MANIFEST_BYTES} bytes"
                return bytes(body), uri, None
        except httpx.HTTPError as error:
            return None, uri, f"GET {uri} failed: {type(error).__name__}: {error}"


def verify_manifest(
    content: bytes, *, root: str, manifest_hash: str, count: int, source: str | None
) -> ManifestResult:
    """Check `content` against what the chain anchored; the leaves and proofs when it holds."""
    actual = "0x" + keccak256(content).hex()
    if actual != manifest_hash.lower():
        return ManifestResult(
            ManifestStatus.MISMATCH,
            reason=f"its bytes hash to {actual}, the chain anchored {manifest_hash}",
            source=source,
        )
    try:
        document = json.loads(content)
        if document.get("format") != FORMAT:
            raise ValueError(f"format is {document.get('format')!r}, not {FORMAT!r}")
        events = sorted(document["events"], key=lambda e: int(e["index"]))
        values = [(e["digest"].lower(), e["lotKey"].lower(), e["signer"]) for e in events]
        tree = StandardMerkleTree.of(values, LEAF_ENCODING)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        return ManifestResult(
            ManifestStatus.MISMATCH, reason=f"not a Lotlink manifest ({error})", source=source
        )
    if tree.root.lower() != root.lower() or len(values) != count:
        return ManifestResult(
            ManifestStatus.MISMATCH,
            reason=f"its {len(values)} events make root {tree.root}, the chain anchored "
            f"{count} events under {root}",
            source=source,
        )
    dump = tree.dump()
    leaves = [
        ManifestLeaf(
            digest=digest,
            lot_key=lot_key,
            signer=signer.lower(),
            leaf=dump["tree"][entry["treeIndex"]],
            proof=tree.get_proof(index),
        )
        for index, ((digest, lot_key, signer), entry) in enumerate(
            zip(values, dump["values"], strict=True)
        )
    ]
    return ManifestResult(ManifestStatus.VERIFIED, source=source, leaves=leaves)
