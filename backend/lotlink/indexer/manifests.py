"""Batch manifests as the indexer reads them: found in the local store the anchorer writes
(``var/manifests/<hash>.json``) or fetched from the URI the batch names, then checked.

A manifest is accepted (`ManifestStatus.VERIFIED`) only when keccak256 of its exact bytes is the
``manifestHash`` anchored on chain, it is a canonical Lotlink manifest for this chain and
contract whose events rebuild the anchored root and count, every event passes
`lotlink.indexer.rebuild.check_event` (hash, eventID, kind, EIP-712 signature, lot links), and
every signer held a role fitting its event's kind at the anchoring block (asked of the chain:
of its state at that block, or of the contract's role logs when the node keeps no state for it,
as `lotlink.chain.roles` reads them; a node that can answer neither leaves it UNAVAILABLE).
Anything else is marked on the batch with the reason, reported, and none of its events is
indexed as anchored: UNAVAILABLE (no source answered) and MISMATCH (the bytes found hash to
something else) are retried with backoff, INVALID (the anchored bytes themselves fail) is final.

What the live index skips, and why it may: an event this index holds exactly as the manifest
states it is not re-checked (the write path checked it on acceptance), and bytes this process's
anchorer built are neither read back, hashed nor parsed again (it hashed them as it built them, and
the manifest it built is what parsing gives). Neither skips
a check against the chain: the hash, chain and contract, root and count, and roles always run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

from lotlink.anchoring.manifest import (
    LEAF_ENCODING,
    BuiltManifests,
    ManifestError,
    ManifestEvent,
    built_manifests,
    manifest_hash_of,
    parse_manifest,
)
from lotlink.anchoring.verify import ROLES_FOR_KIND, role_unchecked
from lotlink.chain.addresses import checksum_address
from lotlink.chain.decode import ChainLog
from lotlink.chain.roles import NODE_ERRORS, RoleCheckUnavailableError, RoleReader, node_message
from lotlink.chain.rpc import RpcClient
from lotlink.chain.typed_data import Domain
from lotlink.errors import ChainRpcError
from lotlink.indexer.rebuild import EventRejected, RebuiltEvent, check_event
from lotlink.models import ManifestStatus
from lotlink.vocabulary import CheckpointKind

log = logging.getLogger(__name__)

__all__ = ["LEAF_ENCODING", "ManifestResolver", "ManifestResult", "RetryPolicy"]

#: A manifest of 65,536 events (the largest batch) with their EPCIS JSON stays far below this.
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
_HAS_ROLE = function_signature_to_4byte_selector("hasRole(bytes32,address)")
#: The source of a manifest this process's anchorer built (see `ManifestResolver.fetch`).
BUILT_HERE = "the manifest this process built"


@dataclass(frozen=True, slots=True)
class BatchAnchor:
    """Where a BatchAnchored log put a root: what the checks and the receipts need."""

    root: str
    manifest_hash: str
    manifest_uri: str
    count: int
    tx_hash: str
    block_number: int
    block_hash: str | None
    log_index: int
    timestamp: int

    @classmethod
    def of_log(cls, entry: ChainLog) -> BatchAnchor:
        a = entry.args
        if entry.timestamp is None:
            raise ValueError(f"log {entry.tx_hash}:{entry.log_index} has no block timestamp")
        return cls(
            root=a["root"],
            manifest_hash=a["manifestHash"],
            manifest_uri=a["manifestUri"],
            count=a["count"],
            tx_hash=entry.tx_hash,
            block_number=entry.block_number,
            block_hash=entry.block_hash,
            log_index=entry.log_index,
            timestamp=entry.timestamp,
        )

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, UTC)


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One event a verified manifest anchors: its leaf, its proof to the root, and its rows
    (None for an event this index already held as the manifest states it)."""

    digest: str
    lot_key: str
    signer: str
    kind: CheckpointKind
    leaf: str
    proof: list[str]
    rebuilt: RebuiltEvent | None


#: (EPCIS text, signature, signer, primary lot) of events this index holds, by digest.
Held = Callable[[list[str]], Mapping[str, tuple[str, str, str, str]]]


@dataclass
class ManifestResult:
    """The outcome of resolving one batch's manifest."""

    status: ManifestStatus
    reason: str | None = None
    source: str | None = None
    content: bytes | None = None
    entries: list[ManifestEntry] = field(default_factory=list)

    @classmethod
    def invalid(cls, reason: str, *, source: str | None) -> ManifestResult:
        return cls(ManifestStatus.INVALID, reason=reason, source=source)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Delays between attempts at an unresolved manifest: doubling from `first` up to `cap`."""

    first: float = 5.0
    cap: float = 600.0

    def delay(self, attempts: int) -> float:
        return min(self.cap, self.first * 2 ** max(0, attempts - 1))


class ManifestResolver:
    """Finds and checks manifests: the local store first, then the batch's URI over HTTP(S).

    `client` is the HTTP client to fetch with (one of its own by default); `built` the
    manifests this process's anchorer built (see `check_manifest`), None to parse every one."""

    def __init__(
        self,
        store_dir: Path | None,
        *,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
        built: BuiltManifests | None = built_manifests,
    ) -> None:
        self.store_dir = store_dir
        self.timeout = timeout
        self.client = client
        self.built = built

    def resolve(
        self,
        anchor: BatchAnchor,
        *,
        chain_id: int,
        contract: str,
        held: Held | None = None,
        stored: Callable[[], bytes | None] | None = None,
    ) -> ManifestResult:
        """The checked manifest of `anchor` (roles aside: see `check_roles`)."""
        content, source, problems, mismatched = self.fetch(
            anchor.manifest_hash, anchor.manifest_uri, stored=stored
        )
        if content is None:
            status = ManifestStatus.MISMATCH if mismatched else ManifestStatus.UNAVAILABLE
            return ManifestResult(status, reason="; ".join(problems), source=source)
        return check_manifest(
            content,
            anchor,
            chain_id=chain_id,
            contract=contract,
            source=source,
            held=held,
            built=self.built,
        )

    def fetch(
        self, manifest_hash: str, uri: str, *, stored: Callable[[], bytes | None] | None = None
    ) -> tuple[bytes | None, str | None, list[str], bool]:
        """(bytes hashing to `manifest_hash`, where they came from) or (None, the last source
        tried, what each source said, whether some source gave other bytes). Sources, in order:
        the bytes this process's anchorer built (`built`), the copy this database `stored`
        (read only when asked for: the anchorer's own batches), the local store, the URI; each
        is checked by its hash alike, the built bytes when they were built."""
        own = None if self.built is None else self.built.get(manifest_hash)
        if own is not None:
            # Hashed from these very bytes when they were built (`Manifest.manifest_hash`, the
            # key `built` finds them by): reading a stored copy and hashing it again (a
            # megabyte per thousand events) would only say the same thing.
            return own.content, BUILT_HERE, [], False
        problems: list[str] = []
        mismatched = False
        source: str | None = None
        for read in (
            lambda: _stored_copy(stored),
            lambda: self._read_local(manifest_hash),
            lambda: self._fetch(uri),
        ):
            content, source, why = read()
            if content is None:
                if why:
                    problems.append(why)
                continue
            actual = manifest_hash_of(content)
            if actual == manifest_hash.lower():
                return content, source, problems, False
            mismatched = True
            problems.append(f"{source}: its bytes hash to {actual}, not {manifest_hash}")
        if not problems:
            problems.append("no local copy and no address to fetch it from")
        return None, source, problems, mismatched

    def _read_local(self, manifest_hash: str) -> tuple[bytes | None, str | None, str | None]:
        if self.store_dir is None:
            return None, None, None
        path = self.store_dir / f"{manifest_hash.lower()}.json"
        try:
            return path.read_bytes(), str(path), None
        except FileNotFoundError:
            return None, str(path), f"no file {path}"
        except OSError as error:
            return None, str(path), f"{path}: {error.strerror or error}"

    def _fetch(self, uri: str) -> tuple[bytes | None, str | None, str | None]:
        if not uri:
            return None, None, None
        if not uri.startswith(("http://", "https://")):
            return None, uri, f"cannot fetch {uri!r} (only http and https addresses)"
        client = self.client or httpx.Client(timeout=self.timeout, follow_redirects=True)
        try:
            with client.stream("GET", uri, timeout=self.timeout) as response:
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
        finally:
            if self.client is None:
                client.close()


def _stored_copy(
    stored: Callable[[], bytes | None] | None,
) -> tuple[bytes | None, str | None, str | None]:
    content = None if stored is None else stored()
    return content, "the database's copy" if content is not None else None, None


def check_manifest(
    content: bytes,
    anchor: BatchAnchor,
    *,
    chain_id: int,
    contract: str,
    source: str | None,
    held: Held | None = None,
    built: BuiltManifests | None = None,
) -> ManifestResult:
    """Check `content` (already known to hash to the anchored value) and every event in it.

    Events `held` reports stored here exactly as the manifest states them (text, signature,
    signer, lot) were checked when the write path accepted them and are not checked again:
    the live index stays cheap, and anything that differs is checked in full.

    When this process built these very bytes (`built`: the anchorer beside this indexer), the
    manifest it built is used instead of parsing them: parsing would give an equal manifest
    (see `lotlink.anchoring.manifest.Manifest`), so only the JSON parse, the canonical re-dump
    and the tree rebuild are saved. Every check below still runs on it: chain and contract,
    the anchored root and count, each event held or checked in full, the signers' roles."""
    manifest = None if built is None else built.get(anchor.manifest_hash, content=content)
    if manifest is None:
        try:
            manifest = parse_manifest(content, expected_hash=anchor.manifest_hash)
        except ManifestError as error:
            return ManifestResult.invalid(str(error), source=source)
    if manifest.chain_id != chain_id or manifest.contract_address != checksum_address(contract):
        return ManifestResult.invalid(
            f"it names chain {manifest.chain_id} contract {manifest.contract_address}, "
            f"not chain {chain_id} contract {checksum_address(contract)}",
            source=source,
        )
    if manifest.root.lower() != anchor.root.lower() or len(manifest.events) != anchor.count:
        return ManifestResult.invalid(
            f"its {len(manifest.events)} events make root {manifest.root}, the chain anchored "
            f"{anchor.count} events under {anchor.root}",
            source=source,
        )
    domain = Domain(chain_id=chain_id, verifying_contract=checksum_address(contract))
    stored = held([e.digest.lower() for e in manifest.events]) if held is not None else {}
    entries: list[tuple[int, ManifestEvent, RebuiltEvent | None]] = []
    for index, event in enumerate(manifest.events):
        as_stated = (event.epcis_json, event.signature.lower(), event.signer.lower(),
                     event.lot_key.lower())  # fmt: skip
        if stored.get(event.digest.lower()) == as_stated:
            entries.append((index, event, None))
            continue
        try:
            rebuilt = check_event(event, domain=domain)
        except EventRejected as error:
            return ManifestResult.invalid(
                f"event #{index} ({event.digest}): {error}", source=source
            )
        entries.append((index, event, rebuilt))
    leaves, proofs = manifest.tree.leaves(), manifest.tree.proofs()
    return ManifestResult(
        ManifestStatus.VERIFIED,
        source=source,
        content=content,
        entries=[
            ManifestEntry(
                digest=event.digest.lower(),
                lot_key=event.lot_key.lower(),
                signer=event.signer.lower(),
                kind=event.kind,
                leaf=leaves[index],
                proof=proofs[index],
                rebuilt=rebuilt,
            )
            for index, event, rebuilt in entries
        ],
    )


def check_roles(
    rpc: RpcClient, w3: Web3, contract: str, result: ManifestResult, *, block_number: int
) -> ManifestResult:
    """`result`, or an INVALID one when a signer held no role fitting its event's kind at
    `block_number` (as `lotlink verify` checks), or an UNAVAILABLE one (retried) when the node
    can tell that neither from its state nor from the role logs. Endpoint failures raise."""
    if result.status is not ManifestStatus.VERIFIED:
        return result
    wanted = sorted(
        {(e.signer, role) for e in result.entries for role in ROLES_FOR_KIND[e.kind]},
        key=lambda pair: (pair[0], pair[1].value),
    )
    block = hex(block_number)
    try:  # every hasRole at the block in one request: RoleReader's first step, batched
        answers = rpc.batch(
            [
                ("eth_call", [{"to": contract, "data": _has_role_call(role.id, signer)}, block])
                for signer, role in wanted
            ]
        )
    except ChainRpcError:  # e.g. no state for the block (a pruned node, anvil restarted)
        return _check_roles_by_reader(RoleReader(w3, contract), result, block_number)
    held = {pair for pair, answer in zip(wanted, answers, strict=True) if int(answer or "0x0", 16)}
    for index, entry in enumerate(result.entries):
        if not any((entry.signer, role) in held for role in ROLES_FOR_KIND[entry.kind]):
            return _not_held(result, index, entry, block_number)
    return result


def _check_roles_by_reader(
    reader: RoleReader, result: ManifestResult, block_number: int
) -> ManifestResult:
    """`check_roles` through `reader`: from the role logs when the node keeps no state for the
    block, as the verifiers read them (`lotlink.chain.roles`)."""
    for index, entry in enumerate(result.entries):
        roles, signer = ROLES_FOR_KIND[entry.kind], checksum_address(entry.signer)
        try:
            held = reader.held_any(roles, signer, block_number)
        except RoleCheckUnavailableError as error:
            wanted = " or ".join(role.value for role in roles)
            return ManifestResult(
                ManifestStatus.UNAVAILABLE,
                reason=role_unchecked(signer, wanted, block_number, error),
                source=result.source,
            )
        except NODE_ERRORS as error:
            raise ChainRpcError(
                method="eth_call", reason=node_message(error), retryable=True
            ) from None
        if not held:
            return _not_held(result, index, entry, block_number)
    return result


def _not_held(
    result: ManifestResult, index: int, entry: ManifestEntry, block_number: int
) -> ManifestResult:
    need = " or ".join(role.value for role in ROLES_FOR_KIND[entry.kind])
    return ManifestResult.invalid(
        f"event #{index} ({entry.digest}): its signer {entry.signer} was not {need} at "
        f"block {block_number}, as {entry.kind} needs",
        source=result.source,
    )


def _has_role_call(role_id: bytes, account: str) -> str:
    return "0x" + (_HAS_ROLE + role_id + bytes(12) + bytes.fromhex(account[2:])).hex()


def describe(result: ManifestResult, anchor: BatchAnchor) -> str:
    """One line for logs and /healthz."""
    return (
        f"batch {anchor.root} (block {anchor.block_number}): manifest {result.status.value}: "
        f"{result.reason}"
    )
