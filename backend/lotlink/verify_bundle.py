"""Checks an evidence bundle (`lotlink.services.evidence`) against the chain with nothing but an
RPC endpoint: no database, no service. `lotlink verify BUNDLE --rpc URL` runs it.

Check groups, each a line of the report:

- ``chain``: the endpoint is the bundle's chain and the contract is deployed there;
- ``hashes``: every event re-hashes (CBV 2.0) to its digest;
- ``signatures``: every signature recovers, over the EIP-712 ``Checkpoint(eventHash, lotKey,
  kind)`` in the bundle's domain, to the event's signer;
- ``roles``: every signer held a role fitting the event's kind at the anchoring block
  (``hasRole`` called at that block or, when the node keeps no state for it, the contract's
  ``RoleGranted``/``RoleRevoked`` logs up to it: `lotlink.chain.roles`);
- ``anchors``: each leaf is the (digest, lot key, signer) leaf; a batched event's Merkle proof
  folds to a root that ``anchoredAt`` gives the receipt's block and whose ``BatchAnchored`` log
  is in the named transaction; a direct record's ``CheckpointRecorded`` log is in its
  transaction;
- ``confirmations``: every anchor, registration, recall and certificate is buried deep enough;
- ``event chains``: each lot's events, first to head, link through ``lotlink:previous``, every
  previous event named is in the bundle, and no event of the lot is left out of its chain;
- ``lineage``: each lot's parents and quantities equal ``lotParents`` on chain and its
  ``LotRegistered`` log, and its key is its GTIN and lot code's;
- ``recalls`` and ``certificates``: each equals ``recallOf``/``recallLots`` or
  ``certificateOf`` on chain and its log; a recall's wording hashes to its ``reasonHash``.

A check the node cannot answer (no state for the block and no role logs) is neither passed nor
failed: the report lists it as not made, with the node's reason, and is not ok.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound

from lotlink.anchoring.manifest import LEAF_ENCODING
from lotlink.anchoring.verify import ROLES_FOR_KIND, role_unchecked
from lotlink.chain.compile import load_artifact
from lotlink.chain.merkle import MerkleTreeError, leaf_hash, process_proof
from lotlink.chain.roles import RoleCheckUnavailableError, RoleReader
from lotlink.chain.typed_data import Domain, recover_typed_address
from lotlink.epcis.build import PREVIOUS, lots_named
from lotlink.epcis.event_hash import document_events, event_digest
from lotlink.gs1.keys import lot_key as lot_key_of
from lotlink.vocabulary import CheckpointKind

GROUPS = (
    "chain",
    "hashes",
    "signatures",
    "roles",
    "anchors",
    "confirmations",
    "event chains",
    "lineage",
    "recalls",
    "certificates",
)
_STATUS = {0: "none", 1: "active", 2: "closed"}
_BATCH = 200  # reads per JSON-RPC batch


# A bundle names a handful of signers thousands of times; checksumming hashes each time.
_checksum = lru_cache(maxsize=1024)(to_checksum_address)


def _hex(value: Any) -> str:
    return "0x" + bytes(HexBytes(value)).hex()


def _digest_of_id(event_id: str) -> str | None:
    """The digest in an ``ni:///sha-256;<hex>?ver=CBV2.0`` event hash ID."""
    if not isinstance(event_id, str) or ";" not in event_id:
        return None
    return "0x" + event_id.split(";", 1)[1].split("?", 1)[0].lower()


@dataclass
class Report:
    """Per group: how many checks ran, what failed and what the node could not answer (one
    sentence each)."""

    checked: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GROUPS, 0))
    failures: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    unchecked: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def check(self, group: str, ok: bool, problem: str) -> bool:
        self.checked[group] += 1
        if not ok:
            self.failures[group].append(problem)
        return ok

    def not_checked(self, group: str, reason: str) -> None:
        """A check that could not be made; it counts, neither passed nor failed."""
        self.checked[group] += 1
        self.unchecked[group].append(reason)

    @property
    def ok(self) -> bool:
        return not any(self.failures.values()) and not any(self.unchecked.values())

    @property
    def failed(self) -> bool:
        return any(self.failures.values())

    @property
    def unchecked_groups(self) -> list[str]:
        return [g for g in GROUPS if self.unchecked.get(g)]

    @property
    def failed_groups(self) -> list[str]:
        return [g for g in GROUPS if self.failures.get(g)]

    def lines(self) -> list[str]:
        out = []
        for group in GROUPS:
            failed = self.failures.get(group, [])
            unchecked = self.unchecked.get(group, [])
            state = "FAIL" if failed else "?" if unchecked else "ok"
            passed = self.checked[group] - len(failed) - len(unchecked)
            out.append(
                f"{group:<14} {state:<4} {passed}/{self.checked[group]} passed"
                + (f", {len(unchecked)} not checked" if unchecked else "")
            )
            out.extend(_listed(failed, "- "))
            out.extend(_listed(unchecked, "? "))
        total = sum(self.checked.values())
        failed_total = sum(len(v) for v in self.failures.values())
        unchecked_total = sum(len(v) for v in self.unchecked.values())
        state = "FAIL" if failed_total else "?" if unchecked_total else "ok"
        out.append(
            f"total          {state:<4} {total - failed_total - unchecked_total}/{total}"
            " checks passed"
            + (f", {unchecked_total} could not be checked" if unchecked_total else "")
        )
        return out


def _listed(sentences: list[str], mark: str, limit: int = 20) -> list[str]:
    out = [f"    {mark}{sentence}" for sentence in sentences[:limit]]
    if len(sentences) > limit:
        out.append(f"    … and {len(sentences) - limit} more")
    return out


class _Chain:
    """The chain reads a verification needs, each made once."""

    def __init__(self, w3: Web3, address: str) -> None:
        self.w3 = w3
        self.contract = w3.eth.contract(
            address=to_checksum_address(address), abi=load_artifact("Lotlink").abi
        )
        self._receipts: dict[str, Any] = {}
        self.roles = RoleReader(w3, address)
        self._anchored: dict[str, int] = {}
        self._logs: dict[tuple[str, int, int, str], tuple[Any, str | None]] = {}
        self._parents: dict[str, set[str]] = {}
        self.head = int(w3.eth.block_number)

    def receipt(self, tx_hash: str) -> Any:
        if tx_hash not in self._receipts:
            try:
                self._receipts[tx_hash] = self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
            except TransactionNotFound:
                self._receipts[tx_hash] = None
        return self._receipts[tx_hash]

    def log(self, tx_hash: Any, block: Any, log_index: Any, event: str) -> tuple[Any, str | None]:
        """The decoded log `event` at `log_index` of a successful `tx_hash` in `block`."""
        if tx_hash is None or block is None or log_index is None:
            return None, "names no transaction, block and log"
        # Every event of a batch names the same BatchAnchored log: decode it once.
        key = (_hex(tx_hash), int(block), int(log_index), event)
        if key not in self._logs:
            self._logs[key] = self._decode_log(*key)
        return self._logs[key]

    def _decode_log(
        self, tx_hash: str, block: int, log_index: int, event: str
    ) -> tuple[Any, str | None]:
        receipt = self.receipt(_hex(tx_hash))
        if receipt is None:
            return None, f"transaction {_hex(tx_hash)} is not on chain"
        if int(receipt["blockNumber"]) != int(block) or receipt["status"] != 1:
            return None, f"transaction {_hex(tx_hash)} is not a successful one in block {block}"
        for entry in receipt["logs"]:
            if int(entry["logIndex"]) == int(log_index):
                if to_checksum_address(entry["address"]) != self.contract.address:
                    break
                try:
                    return getattr(self.contract.events, event)().process_log(entry)["args"], None
                except Exception:
                    return None, f"log {log_index} of {_hex(tx_hash)} is not a {event} log"
        return None, f"transaction {_hex(tx_hash)} has no log {log_index} from the contract"

    def lot_parents(self, key: str) -> set[str]:
        if key not in self._parents:
            parents = self.contract.functions.lotParents(HexBytes(key)).call()
            self._parents[key] = {_hex(p) for p in parents}
        return self._parents[key]

    def prefetch_lineage(self, keys: list[str], tx_hashes: list[str]) -> None:
        """Reads the lots' parents and their registrations' receipts in JSON-RPC batches (one
        round trip per few hundred reads instead of two or three each). Whatever a batch cannot
        answer is left for `lot_parents` and `receipt` to ask one by one, with their own errors."""
        keys = [k for k in keys if k not in self._parents]
        tx_hashes = [t for t in dict.fromkeys(tx_hashes) if t not in self._receipts]
        for start in range(0, max(len(keys), len(tx_hashes)), _BATCH):
            some_keys, some_txs = keys[start : start + _BATCH], tx_hashes[start : start + _BATCH]
            try:
                with self.w3.batch_requests() as batch:
                    for key in some_keys:
                        batch.add(self.contract.functions.lotParents(HexBytes(key)))
                    for tx_hash in some_txs:
                        batch.add(self.w3.eth.get_transaction_receipt(HexBytes(tx_hash)))
                    answers = batch.execute()
            except Exception:
                continue
            for key, parents in zip(some_keys, answers, strict=False):
                if isinstance(parents, list | tuple):
                    self._parents[key] = {_hex(p) for p in parents}
            for tx_hash, receipt in zip(some_txs, answers[len(some_keys) :], strict=False):
                if isinstance(receipt, Mapping) and "blockNumber" in receipt:
                    self._receipts[tx_hash] = receipt

    def anchored_at(self, root: str) -> int:
        if root not in self._anchored:
            self._anchored[root] = int(self.contract.functions.anchoredAt(HexBytes(root)).call())
        return self._anchored[root]


def verify_bundle(bundle: Mapping[str, Any], w3: Web3, *, confirmations: int = 0) -> Report:
    """Checks `bundle` against the chain `w3` reaches; the report names every failure."""
    report = Report()
    try:
        chain_id = int(bundle["chainId"])
        contract_address = to_checksum_address(bundle["contract"])
        events = list(bundle["events"])
        lots = list(bundle["lots"])
    except (KeyError, TypeError, ValueError) as error:
        report.check("chain", False, f"the bundle is malformed: {error}")
        return report
    actual = int(w3.eth.chain_id)
    if not report.check(
        "chain", actual == chain_id, f"the endpoint is chain {actual}, not {chain_id}"
    ):
        return report
    code = w3.eth.get_code(contract_address)
    if not report.check("chain", len(code) > 0, f"no contract at {contract_address}"):
        return report
    chain = _Chain(w3, contract_address)
    domain = Domain(chain_id=chain_id, verifying_contract=contract_address)

    by_digest: dict[str, Mapping[str, Any]] = {}
    touches: dict[str, set[str]] = {}
    previous: dict[str, list[str]] = {}
    for receipt in events:
        digest = _verify_event(report, chain, domain, receipt, confirmations)
        if digest is None:
            continue
        by_digest[digest] = receipt
        inner = _inner(receipt)
        touches[digest] = _touched(inner)
        previous[digest] = [d for d in map(_digest_of_id, inner.get(PREVIOUS) or []) if d]

    _verify_chains(report, lots, by_digest, touches, previous)
    chain.prefetch_lineage(*_lineage_reads(lots))
    for lot in lots:
        _verify_lineage(report, chain, lot, confirmations)
    for recall in bundle.get("recalls") or []:
        _verify_recall(report, chain, recall, confirmations)
    for certificate in bundle.get("certificates") or []:
        _verify_certificate(report, chain, certificate, confirmations)
    return report


def _lineage_reads(lots: list[Any]) -> tuple[list[str], list[str]]:
    """The lot keys and registration transactions `_verify_lineage` will read; malformed
    entries are left out here and reported there."""
    keys, tx_hashes = [], []
    for lot in lots:
        try:
            keys.append(_hex(lot["lotKey"]))
            tx_hashes.append(_hex(lot["registration"]["transactionHash"]))
        except (KeyError, TypeError, ValueError):
            continue
    return keys, tx_hashes


def _inner(receipt: Mapping[str, Any]) -> Mapping[str, Any]:
    event = receipt.get("event")
    if not isinstance(event, Mapping):
        return {}
    if isinstance(event.get("epcisBody"), Mapping):
        try:
            return document_events(event)[0]
        except (KeyError, IndexError, TypeError):
            return {}
    return event


def _touched(event: Mapping[str, Any]) -> set[str]:
    try:
        return {"0x" + lot_key_of(ref.gtin, ref.lot_code).hex() for _, ref, _ in lots_named(event)}
    except Exception:
        return set()


def _verify_event(
    report: Report,
    chain: _Chain,
    domain: Domain,
    receipt: Mapping[str, Any],
    confirmations: int,
) -> str | None:
    try:
        digest = _hex(receipt["digest"])
        lot_key = _hex(receipt["lotKey"])
        signer = _checksum(receipt["signer"])
        kind = CheckpointKind.from_code(int(receipt["kindCode"]))
    except (KeyError, TypeError, ValueError) as error:
        report.check("hashes", False, f"an event receipt is malformed: {error}")
        return None
    name = f"event {digest}"
    event = receipt.get("event")
    try:
        recomputed = "0x" + event_digest(_inner(receipt), context=event.get("@context")).hex()  # type: ignore[union-attr]
    except Exception as error:
        recomputed = f"nothing ({error})"
    report.check("hashes", recomputed == digest, f"{name} hashes to {recomputed}")

    message = {"eventHash": HexBytes(digest), "lotKey": HexBytes(lot_key), "kind": kind.code}
    try:
        signature = bytes(HexBytes(receipt["signature"]))
        recovered = recover_typed_address("Checkpoint", message, domain, signature)
    except Exception as error:
        recovered = f"nothing ({error})"
    ok = recovered == signer.lower()
    shown = _checksum(recovered) if not ok and recovered.startswith("0x") else recovered
    report.check("signatures", ok, f"{name}: signed by {shown}, not {signer}")

    if receipt.get("status") != "anchored" or "blockNumber" not in receipt:
        report.check("anchors", False, f"{name} is not anchored (status {receipt.get('status')})")
        return digest
    block = int(receipt["blockNumber"])
    leaf, root = _hex(receipt["leaf"]), _hex(receipt["root"])
    proof = list(receipt.get("proof") or [])
    expected_leaf = "0x" + leaf_hash(LEAF_ENCODING, (digest, lot_key, signer)).hex()
    report.check("anchors", expected_leaf == leaf, f"{name}: leaf {leaf} is not its leaf")
    if receipt.get("mode") == "direct":
        args, problem = chain.log(
            receipt["transactionHash"], block, receipt["logIndex"], "CheckpointRecorded"
        )
        if problem is None and args is not None:
            named = (_hex(args["eventHash"]), _hex(args["lotKey"]), args["signer"])
            if named != (digest, lot_key, signer) or int(args["kind"]) != kind.code:
                problem = "its CheckpointRecorded log records another event"
            elif proof or root != leaf:
                problem = "a direct record has no proof and its root is its leaf"
        report.check("anchors", problem is None, f"{name}: {problem}")
    else:
        try:
            reached = "0x" + process_proof(HexBytes(leaf), [HexBytes(n) for n in proof]).hex()
        except (MerkleTreeError, ValueError) as error:
            reached = f"nothing ({error})"
        report.check(
            "anchors", reached == root, f"{name}: the proof leads to {reached}, not the root {root}"
        )
        at = chain.anchored_at(root)
        report.check("anchors", at == block, f"{name}: anchoredAt(root) is {at}, not {block}")
        args, problem = chain.log(
            receipt["transactionHash"], block, receipt["logIndex"], "BatchAnchored"
        )
        if problem is None and args is not None and _hex(args["root"]) != root:
            problem = f"its BatchAnchored log anchors {_hex(args['root'])}"
        report.check("anchors", problem is None, f"{name}: {problem}")
    _confirmed(report, chain, block, confirmations, name)
    roles = ROLES_FOR_KIND[kind]
    wanted = " or ".join(role.value for role in roles)
    try:
        held = chain.roles.held_any(roles, signer, block)
    except RoleCheckUnavailableError as error:
        report.not_checked("roles", f"{name}: {role_unchecked(signer, wanted, block, error)}")
    else:
        report.check("roles", held, f"{name}: {signer} was not {wanted} at block {block}")
    return digest


def _confirmed(report: Report, chain: _Chain, block: int, needed: int, name: str) -> None:
    depth = chain.head - block
    report.check(
        "confirmations", depth >= needed, f"{name}: {depth} confirmations, {needed} needed"
    )


def _verify_chains(
    report: Report,
    lots: list[Mapping[str, Any]],
    by_digest: dict[str, Mapping[str, Any]],
    touches: dict[str, set[str]],
    previous: dict[str, list[str]],
) -> None:
    for lot in lots:
        key = str(lot.get("lotKey", "")).lower()
        claimed = [str(d).lower() for d in lot.get("events") or []]
        head = lot.get("head")
        name = f"lot {key}"
        if not claimed:
            report.check("event chains", head is None, f"{name}: head {head} but no events")
            continue
        report.check(
            "event chains",
            claimed[-1] == str(head).lower(),
            f"{name}: its chain ends at {claimed[-1]}, not its head {head}",
        )
        for index, digest in enumerate(claimed):
            if not report.check(
                "event chains", digest in by_digest, f"{name}: event {digest} is not in the bundle"
            ):
                continue
            report.check(
                "event chains",
                key in touches[digest],
                f"{name}: event {digest} does not name the lot",
            )
            missing = [d for d in previous[digest] if d not in by_digest]
            report.check(
                "event chains",
                not missing,
                f"{name}: event {digest} follows {', '.join(missing)}, left out of the bundle",
            )
            of_lot = [d for d in previous[digest] if d in by_digest and key in touches[d]]
            expected = [] if index == 0 else [claimed[index - 1]]
            report.check(
                "event chains",
                of_lot == expected,
                f"{name}: event {digest} follows "
                f"{of_lot or 'nothing'} of the lot, not {expected or 'nothing'}",
            )
        listed = set(claimed)
        left_out = [d for d, lots_ in touches.items() if key in lots_ and d not in listed]
        report.check(
            "event chains",
            not left_out,
            f"{name}: events {', '.join(left_out)} are not in its chain",
        )


def _verify_lineage(
    report: Report, chain: _Chain, lot: Mapping[str, Any], confirmations: int
) -> None:
    key = str(lot.get("lotKey", "")).lower()
    name = f"lot {key}"
    try:
        derived = "0x" + lot_key_of(str(lot["gtin"]), str(lot["lotCode"])).hex()
        parents = {str(p["lotKey"]).lower(): int(p["quantity"]) for p in lot["parents"]}
        registration = lot["registration"]
    except (KeyError, TypeError, ValueError) as error:
        report.check("lineage", False, f"{name}: malformed ({error})")
        return
    report.check("lineage", derived == key, f"{name}: GTIN and lot code give {derived}")
    on_chain = chain.lot_parents(key)
    report.check(
        "lineage",
        on_chain == set(parents),
        f"{name}: lotParents on chain is {sorted(on_chain)}, the bundle says {sorted(parents)}",
    )
    args, problem = chain.log(
        registration.get("transactionHash"),
        registration.get("blockNumber"),
        registration.get("logIndex"),
        "LotRegistered",
    )
    if problem is None and args is not None:
        lot_args = args["lot"]
        logged = {
            _hex(p): int(q)
            for p, q in zip(lot_args["parents"], lot_args["parentQuantities"], strict=False)
        }
        details = lot.get("detailsHash") or "0x" + "00" * 32
        if _hex(args["lotKey"]) != key:
            problem = f"its LotRegistered log registers {_hex(args['lotKey'])}"
        elif logged != parents:
            problem = f"its LotRegistered log names parents {logged}, the bundle {parents}"
        elif (
            lot_args["gtin"],
            lot_args["lotCode"],
            int(lot_args["quantity"]),
            lot_args["uom"],
            _hex(lot_args["detailsHash"]),
            to_checksum_address(args["owner"]),
        ) != (
            lot["gtin"],
            lot["lotCode"],
            int(lot["quantity"]),
            lot["unit"],
            str(details).lower(),
            to_checksum_address(lot["owner"]),
        ):
            problem = "its LotRegistered log registers another GTIN, code, quantity or owner"
    report.check("lineage", problem is None, f"{name}: {problem}")
    if registration.get("blockNumber") is not None:
        _confirmed(report, chain, int(registration["blockNumber"]), confirmations, name)


def recall_reason_hash(wording: Mapping[str, Any]) -> str:
    canonical = json.dumps(
        {"consumer": wording["consumer"], "reason": wording["reason"], "trade": wording["trade"]},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return "0x" + keccak(canonical.encode("utf-8")).hex()


def _verify_recall(
    report: Report, chain: _Chain, recall: Mapping[str, Any], confirmations: int
) -> None:
    recall_id = int(recall.get("recallId", 0))
    name = f"recall {recall_id}"
    issuer, klass, status, voluntary, _, reason_hash = chain.contract.functions.recallOf(
        recall_id
    ).call()
    stated = (
        to_checksum_address(recall["issuer"]),
        int(recall["recallClass"]),
        recall["status"],
        bool(recall["voluntary"]),
        str(recall["reasonHash"]).lower(),
    )
    actual = (issuer, int(klass), _STATUS.get(int(status)), bool(voluntary), _hex(reason_hash))
    report.check(
        "recalls", stated == actual, f"{name}: the chain says {actual}, the bundle {stated}"
    )
    lots = [_hex(k) for k in chain.contract.functions.recallLots(recall_id).call()]
    report.check(
        "recalls",
        sorted(lots) == sorted(str(k).lower() for k in recall["lots"]),
        f"{name}: recallLots on chain is {lots}",
    )
    if recall.get("wording") is not None:
        digest = recall_reason_hash(recall["wording"])
        report.check("recalls", digest == actual[4], f"{name}: its wording hashes to {digest}")
    args, problem = chain.log(
        recall.get("transactionHash"),
        recall.get("blockNumber"),
        recall.get("logIndex"),
        "RecallIssued",
    )
    if problem is None and args is not None and int(args["recallId"]) != recall_id:
        problem = f"its RecallIssued log issues recall {args['recallId']}"
    report.check("recalls", problem is None, f"{name}: {problem}")
    if recall.get("blockNumber") is not None:
        _confirmed(report, chain, int(recall["blockNumber"]), confirmations, name)


def _verify_certificate(
    report: Report, chain: _Chain, cert: Mapping[str, Any], confirmations: int
) -> None:
    cert_id = str(cert.get("certificateId", "")).lower()
    name = f"certificate {cert_id}"
    on = chain.contract.functions.certificateOf(HexBytes(cert_id)).call()
    actual = (
        on[0],
        int(on[1]),
        int(on[2]),
        int(on[3]),
        bool(on[4]),
        int(on[5]),
        _hex(on[6]),
        _hex(on[7]),
    )
    stated = (
        to_checksum_address(cert["issuer"]),
        int(cert["validFrom"]),
        int(cert["subjectKind"]),
        int(cert["kind"]),
        bool(cert["revoked"]),
        int(cert["validUntil"]),
        str(cert["subject"]).lower(),
        str(cert["documentHash"]).lower(),
    )
    report.check("certificates", actual == stated, f"{name}: the chain says {actual}")
    args, problem = chain.log(
        cert.get("transactionHash"),
        cert.get("blockNumber"),
        cert.get("logIndex"),
        "CertificateIssued",
    )
    if problem is None and args is not None and _hex(args["certificateId"]) != cert_id:
        problem = "its CertificateIssued log issues another certificate"
    report.check("certificates", problem is None, f"{name}: {problem}")
    if cert.get("blockNumber") is not None:
        _confirmed(report, chain, int(cert["blockNumber"]), confirmations, name)
