"""Checks a receipt against the chain with nothing but an RPC endpoint.

`verify_receipt` re-derives every link itself: the event hashes to the digest (CBV 2.0), the
signature recovers to the signer over the EIP-712 ``Checkpoint`` struct in the deployment's
domain, the leaf is the (digest, lot key, signer) leaf, the proof leads from it to the root, the
root (or, for a direct record, the ``CheckpointRecorded`` log) is on chain in the named
transaction with enough confirmations, and the signer held a role that fits the kind there
(`lotlink.chain.roles`: from the node's state at that block, or from the contract's role logs
when the node keeps no state for it).
An empty list means verified; each problem is one sentence, and a check the node could not
answer is one too ("... could not be checked: ..."), never an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound

from lotlink.anchoring.manifest import LEAF_ENCODING
from lotlink.chain.compile import load_artifact
from lotlink.chain.merkle import MerkleTreeError, leaf_hash, process_proof
from lotlink.chain.roles import NODE_ERRORS, RoleCheckUnavailableError, RoleReader, node_message
from lotlink.chain.typed_data import Domain, recover_typed
from lotlink.epcis.event_hash import document_events, event_digest
from lotlink.vocabulary import CheckpointKind, Role

# Which roles may sign each kind, as LotlinkCheckpoints._checkRoleFitsKind decides.
ROLES_FOR_KIND = {
    CheckpointKind.PRODUCED: (Role.SUPPLIER,),
    CheckpointKind.TRANSFORMED: (Role.SUPPLIER,),
    CheckpointKind.INSPECTED: (Role.INSPECTOR, Role.SUPPLIER),
    CheckpointKind.SHIPPED: (Role.SUPPLIER, Role.CARRIER),
    CheckpointKind.RECEIVED: (Role.SUPPLIER, Role.CARRIER),
}


def _hex(value: Any) -> str:
    return "0x" + bytes(HexBytes(value)).hex()


def verify_receipt(receipt: Mapping[str, Any], w3: Web3, *, confirmations: int = 0) -> list[str]:
    """The problems found checking `receipt` (a receipt endpoint's body) against the chain."""
    problems: list[str] = []
    try:
        digest = _hex(receipt["digest"])
        lot_key = _hex(receipt["lotKey"])
        signer = to_checksum_address(receipt["signer"])
        kind = CheckpointKind.from_code(int(receipt["kindCode"]))
        chain_id = int(receipt["chainId"])
        contract_address = to_checksum_address(receipt["contract"])
        leaf, root = _hex(receipt["leaf"]), _hex(receipt["root"])
        proof = [_hex(node) for node in receipt["proof"]]
        tx_hash = _hex(receipt["transactionHash"])
        block_number = int(receipt["blockNumber"])
        log_index = int(receipt["logIndex"])
    except (KeyError, TypeError, ValueError) as error:
        return [f"the receipt is incomplete or malformed: {error}"]

    event = receipt.get("event")
    if not isinstance(event, Mapping):
        problems.append("the receipt carries no event")
    else:
        try:
            # Lotlink stores (and serves) each event as a one-event EPCISDocument.
            body = event.get("epcisBody")
            inner = document_events(event)[0] if isinstance(body, Mapping) else event
            recomputed = "0x" + event_digest(inner, context=event.get("@context")).hex()
        except Exception as error:  # an event the hasher cannot read is a problem, not a crash
            problems.append(f"the event cannot be hashed: {error}")
        else:
            if recomputed != digest:
                problems.append(f"the event hashes to {recomputed}, not the digest {digest}")

    domain = Domain(chain_id=chain_id, verifying_contract=contract_address)
    message = {"eventHash": HexBytes(digest), "lotKey": HexBytes(lot_key), "kind": kind.code}
    try:
        recovered = recover_typed("Checkpoint", message, domain, HexBytes(receipt["signature"]))
    except Exception as error:
        problems.append(f"the signature cannot be read: {error}")
    else:
        if recovered != signer:
            problems.append(f"the signature recovers to {recovered}, not the signer {signer}")

    expected_leaf = "0x" + leaf_hash(LEAF_ENCODING, (digest, lot_key, signer)).hex()
    if expected_leaf != leaf:
        problems.append(f"the leaf of (digest, lot key, signer) is {expected_leaf}, not {leaf}")
    try:
        reached = "0x" + process_proof(HexBytes(leaf), [HexBytes(n) for n in proof]).hex()
    except MerkleTreeError as error:
        problems.append(f"the proof is malformed: {error}")
    else:
        if reached != root:
            problems.append(f"the proof leads to {reached}, not the root {root}")

    try:
        problems += _check_chain(
            w3,
            chain_id=chain_id,
            contract_address=contract_address,
            direct=receipt.get("mode") == "direct",
            root=root,
            leaf=leaf,
            proof=proof,
            tx_hash=tx_hash,
            block_number=block_number,
            log_index=log_index,
            manifest_hash=receipt.get("manifestHash"),
            signer=signer,
            kind=kind,
            digest=digest,
            lot_key=lot_key,
            confirmations=confirmations,
        )
    except NODE_ERRORS as error:
        # The endpoint failed mid-check (it went away, or refused a read): nothing is verified.
        problems.append(f"the chain could not be read: {node_message(error)}")
    return problems


def _check_chain(
    w3: Web3,
    *,
    chain_id: int,
    contract_address: ChecksumAddress,
    direct: bool,
    root: str,
    leaf: str,
    proof: list[str],
    tx_hash: str,
    block_number: int,
    log_index: int,
    manifest_hash: str | None,
    signer: str,
    kind: CheckpointKind,
    digest: str,
    lot_key: str,
    confirmations: int,
) -> list[str]:
    actual_chain = int(w3.eth.chain_id)
    if actual_chain != chain_id:
        return [f"the endpoint is chain {actual_chain}, the receipt names chain {chain_id}"]
    contract = w3.eth.contract(address=contract_address, abi=load_artifact("Lotlink").abi)
    problems: list[str] = []
    try:
        tx_receipt = w3.eth.get_transaction_receipt(HexBytes(tx_hash))
    except TransactionNotFound:
        return [f"transaction {tx_hash} is not on chain"]
    if int(tx_receipt["blockNumber"]) != block_number or tx_receipt["status"] != 1:
        problems.append(f"transaction {tx_hash} is not a successful one in block {block_number}")
    logs = [entry for entry in tx_receipt["logs"] if int(entry["logIndex"]) == log_index]
    if not logs or to_checksum_address(logs[0]["address"]) != contract_address:
        problems.append(f"transaction {tx_hash} has no log {log_index} from {contract_address}")
    elif direct:
        args = contract.events.CheckpointRecorded().process_log(logs[0])["args"]
        named = (_hex(args["eventHash"]), _hex(args["lotKey"]), to_checksum_address(args["signer"]))
        if named != (digest, lot_key, signer) or int(args["kind"]) != kind.code or root != leaf:
            problems.append(f"log {log_index} does not record this event")
    else:
        args = contract.events.BatchAnchored().process_log(logs[0])["args"]
        if _hex(args["root"]) != root:
            problems.append(f"log {log_index} anchors root {_hex(args['root'])}, not {root}")
        if manifest_hash is not None and _hex(args["manifestHash"]) != _hex(manifest_hash):
            problems.append(f"the anchored manifest hash is {_hex(args['manifestHash'])}")
        anchored_at = int(contract.functions.anchoredAt(HexBytes(root)).call())
        if anchored_at != block_number:
            problems.append(f"anchoredAt(root) is {anchored_at}, not block {block_number}")
        included = contract.functions.isAnchored(
            HexBytes(root), HexBytes(leaf), [HexBytes(n) for n in proof]
        ).call()
        if not included:
            problems.append("the contract's isAnchored(root, leaf, proof) is false")
    head = int(w3.eth.block_number)
    if head - block_number < confirmations:
        problems.append(
            f"block {block_number} has {head - block_number} confirmations, {confirmations} needed"
        )
    roles = ROLES_FOR_KIND[kind]
    wanted = " or ".join(role.value for role in roles)
    try:
        held = RoleReader(w3, contract_address).held_any(roles, signer, block_number)
    except RoleCheckUnavailableError as error:
        problems.append(role_unchecked(signer, wanted, block_number, error))
    else:
        if not held:
            problems.append(f"{signer} was not {wanted} at block {block_number}, as {kind} needs")
    return problems


def role_unchecked(signer: str, wanted: str, block: int, error: RoleCheckUnavailableError) -> str:
    """The sentence for a role check the node could not answer (a check not made, not passed)."""
    return f"whether {signer} was {wanted} at block {block} could not be checked: {error.reason}"
