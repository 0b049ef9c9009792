"""Batch manifests: the content-addressed document that says what a Merkle root anchors.

A manifest lists every event of a batch with its signature and the exact EPCIS JSON that was
hashed, so anyone holding it can rebuild the tree, check each signature, and re-hash each event
without this service. Its keccak256 is the ``manifestHash`` anchored with the root, so its bytes
are fixed once written: canonical JSON (sorted keys, no whitespace, UTF-8), built only here.

Events appear in the order their leaves were given to the tree (``index``); rebuilding
``StandardMerkleTree.of([(digest, lotKey, signer) for each event], LEAF_ENCODING)`` yields
``root``, and ``get_proof(index)`` each event's proof.

Version 2 adds what an index needs to rebuild each event's rows without this service: the
event's ``recordTime``, and ``lots``, every lot it touches (sorted by lot key) with the lot's
previous event (one of the event's signed ``lotlink:previous``), quantity and unit. Version 1
manifests (without them) still parse; their events carry ``lots=None``.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lotlink.chain.addresses import checksum_address
from lotlink.chain.keccak import keccak256
from lotlink.chain.merkle import StandardMerkleTree
from lotlink.errors import LotlinkError
from lotlink.vocabulary import CheckpointKind

FORMAT = "lotlink-batch-manifest"
VERSION = 2
VERSIONS = (1, 2)
#: What each leaf encodes, in the contracts' `checkpointLeaf` order.
LEAF_ENCODING = ("bytes32", "bytes32", "address")
#: Each kind's on-chain code, looked up once (`ChainEnum.code` lists the enum on every call).
_KIND_CODES = {kind: kind.code for kind in CheckpointKind}


class ManifestError(LotlinkError):
    """Raised when a manifest cannot be read, or its bytes do not hash to the expected value."""

    def __init__(self, *, manifest_hash: str, reason: str) -> None:
        super().__init__(f"manifest {manifest_hash}: {reason}")
        self.manifest_hash = manifest_hash


@dataclass(frozen=True, slots=True)
class ManifestLot:
    """A lot an event touches: its previous event in that lot's chain (None for the lot's
    first), and the lot's quantity in the event in thousandths of ``unit``."""

    lot_key: str
    previous: str | None
    quantity_milli: int | None = None
    unit: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "lotKey": self.lot_key,
            "previous": self.previous,
            "quantityMilli": self.quantity_milli,
            "unit": self.unit,
        }


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
    # Version 2: when the service recorded it (ISO 8601, microseconds) and every lot it touches.
    record_time: str | None = None
    lots: tuple[ManifestLot, ...] | None = None

    @property
    def leaf_value(self) -> tuple[str, str, str]:
        return (self.digest, self.lot_key, checksum_address(self.signer))

    def as_written(self, *, version: int) -> ManifestEvent:
        """This event as a manifest of `version` states it, so as `parse_manifest` reads it
        back: signer checksummed, lots sorted by lot key (version 1 has neither lots nor
        record time)."""
        if version < 2:
            lots, record_time = None, None
        elif self.lots is None or self.record_time is None:
            raise ValueError(f"event {self.digest} has no lots or record time")
        else:
            lots, record_time = tuple(sorted(self.lots, key=_by_lot_key)), self.record_time
        signer = checksum_address(self.signer)
        if (signer, lots, record_time) == (self.signer, self.lots, self.record_time):
            return self
        return ManifestEvent(
            digest=self.digest,
            event_id=self.event_id,
            lot_key=self.lot_key,
            kind=self.kind,
            signer=signer,
            signature=self.signature,
            epcis_json=self.epcis_json,
            record_time=record_time,
            lots=lots,
        )


def _by_lot_key(lot: ManifestLot) -> str:
    return lot.lot_key


@dataclass(frozen=True, slots=True)
class Manifest:
    """A built manifest: its canonical bytes, their keccak256, and the tree they describe.

    Invariant: ``parse_manifest(m.content) == m`` for every manifest `build_manifest` returns
    (its events are kept as the bytes state them), so a built manifest may stand in for parsing
    its own bytes again. The tree is left out of equality: it is a function of the events."""

    content: bytes
    manifest_hash: str
    root: str
    tree: StandardMerkleTree = field(compare=False)
    events: tuple[ManifestEvent, ...]
    chain_id: int
    contract_address: str  # checksummed
    version: int = VERSION

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


def _event_json(event: ManifestEvent, *, index: int, leaf: str, version: int) -> dict[str, Any]:
    """The entry of an event `as_written`."""
    entry: dict[str, Any] = {
        "index": index,
        "digest": event.digest,
        "eventID": event.event_id,
        "lotKey": event.lot_key,
        "kind": event.kind.value,
        "kindCode": _KIND_CODES[event.kind],
        "signer": event.signer,
        "signature": event.signature,
        "leaf": leaf,
        # The exact text that was hashed and signed, kept as a string so that a rebuilt
        # index stores the same bytes as the live one.
        "epcisEvent": event.epcis_json,
    }
    if version >= 2:
        assert event.lots is not None  # as_written refuses an event without them
        entry["recordTime"] = event.record_time
        entry["lots"] = [lot.as_json() for lot in event.lots]
    return entry


def build_manifest(
    events: Sequence[ManifestEvent],
    *,
    chain_id: int,
    contract_address: str,
    version: int = VERSION,
) -> Manifest:
    """The manifest of a batch of `events`, in the given order (which fixes each ``index``)."""
    written = [event.as_written(version=version) for event in events]
    tree = StandardMerkleTree.of([e.leaf_value for e in written], LEAF_ENCODING)
    leaves = tree.leaves()
    document = {
        "format": FORMAT,
        "version": version,
        "chainId": chain_id,
        "contract": checksum_address(contract_address),
        "root": tree.root,
        "leafEncoding": list(LEAF_ENCODING),
        "eventCount": len(written),
        "events": [
            _event_json(event, index=index, leaf=leaves[index], version=version)
            for index, event in enumerate(written)
        ],
    }
    content = canonical_json(document)
    return Manifest(
        content=content,
        manifest_hash=manifest_hash_of(content),
        root=tree.root,
        tree=tree,
        events=tuple(written),
        chain_id=chain_id,
        contract_address=checksum_address(contract_address),
        version=version,
    )


def parse_manifest(content: bytes, *, expected_hash: str | None = None) -> Manifest:
    """Read a manifest's bytes back, checking its hash (when given), its form and its root."""
    actual = manifest_hash_of(content)
    shown = expected_hash or actual
    if expected_hash is not None and actual != expected_hash.lower():
        raise ManifestError(manifest_hash=shown, reason=f"its bytes hash to {actual}")
    try:
        document = json.loads(content)
        version = document.get("version")
        if document.get("format") != FORMAT or version not in VERSIONS:
            raise ValueError(f"unknown format or version ({document.get('format')!r} {version!r})")
        events = tuple(_parse_event(e, version=version) for e in document["events"])
        rebuilt = build_manifest(
            events,
            chain_id=int(document["chainId"]),
            contract_address=document["contract"],
            version=version,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        reason = f"not a Lotlink manifest ({error})"
        raise ManifestError(manifest_hash=shown, reason=reason) from None
    if rebuilt.content != content:
        raise ManifestError(manifest_hash=shown, reason="not in canonical form or root differs")
    return rebuilt


def _parse_event(e: dict[str, Any], *, version: int) -> ManifestEvent:
    lots = None
    if version >= 2:
        lots = tuple(
            ManifestLot(
                lot_key=lot["lotKey"],
                previous=lot["previous"],
                quantity_milli=lot["quantityMilli"],
                unit=lot["unit"],
            )
            for lot in e["lots"]
        )
    return ManifestEvent(
        digest=e["digest"],
        event_id=e["eventID"],
        lot_key=e["lotKey"],
        kind=CheckpointKind(e["kind"]),
        signer=e["signer"],
        signature=e["signature"],
        epcis_json=e["epcisEvent"],
        record_time=e.get("recordTime") if version >= 2 else None,
        lots=lots,
    )


class BuiltManifests:
    """Manifests this process built, by hash, for the steps that follow in the same process:
    the anchorer's receipts and the in-process indexer take a batch's tree from here instead
    of parsing its stored bytes again (a JSON parse, a canonical re-dump and a Merkle tree
    rebuild, per batch and per step). Sound because a built manifest is what parsing its bytes
    gives (see `Manifest`); a caller holding bytes passes them as `content` and gets the
    manifest only for those very bytes. Keeps the newest manifests up to `max_events` events
    in all (and always the newest one); anything older is parsed again, as after a restart."""

    def __init__(self, *, max_events: int = 8192) -> None:
        self.max_events = max_events
        self._lock = threading.Lock()  # the anchorer and the indexer are threads of one process
        self._manifests: OrderedDict[str, Manifest] = OrderedDict()
        self._events = 0

    def add(self, manifest: Manifest) -> None:
        with self._lock:
            replaced = self._manifests.pop(manifest.manifest_hash, None)
            self._events -= 0 if replaced is None else len(replaced.events)
            self._manifests[manifest.manifest_hash] = manifest
            self._events += len(manifest.events)
            while self._events > self.max_events and len(self._manifests) > 1:
                _, dropped = self._manifests.popitem(last=False)
                self._events -= len(dropped.events)

    def get(self, manifest_hash: str, *, content: bytes | None = None) -> Manifest | None:
        """The manifest built here that hashes to `manifest_hash` (and whose bytes are
        `content`, when given), or None."""
        with self._lock:
            found = self._manifests.get(manifest_hash.lower())
        if found is None or (content is not None and found.content != content):
            return None
        return found

    def clear(self) -> None:
        with self._lock:
            self._manifests.clear()
            self._events = 0


#: This process's built manifests: the service runs the anchorer and the indexer side by side.
built_manifests = BuiltManifests()


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
