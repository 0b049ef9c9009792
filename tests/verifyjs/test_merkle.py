"""merkle.js and signature.js against lotlink.chain.merkle, eth_account and the contract's ABI."""

from __future__ import annotations

import json
import random

from eth_account import Account
from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector

from lotlink.anchoring.manifest import LEAF_ENCODING
from lotlink.chain.compile import load_artifact
from lotlink.chain.merkle import StandardMerkleTree
from lotlink.chain.typed_data import Domain, sign_typed

from .conftest import run_node


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def test_leaves_and_proofs_equal_python_and_tampering_fails() -> None:
    rng = random.Random(8)
    calls, expected = [], {}
    for size in [1, 2, 3, 5, 8, 13, 17]:
        values = [
            (_hex(rng.randbytes(32)), _hex(rng.randbytes(32)), Account.create().address)
            for _ in range(size)
        ]
        tree = StandardMerkleTree.of(values, LEAF_ENCODING)
        dump = tree.dump()
        for index, value in enumerate(values):
            leaf = dump["tree"][dump["values"][index]["treeIndex"]]
            proof = tree.get_proof(index)
            key = f"{size}/{index}"
            calls.append({"id": f"leaf {key}", "fn": "leaf", "args": list(value)})
            expected[f"leaf {key}"] = leaf
            calls.append({"id": f"fold {key}", "fn": "fold", "args": [leaf, proof]})
            expected[f"fold {key}"] = tree.root
            if proof:
                bad = list(proof)
                bad[-1] = bad[-1][:-1] + ("0" if bad[-1][-1] != "0" else "1")
                calls.append({"id": f"tampered {key}", "fn": "fold", "args": [leaf, bad]})
                calls.append({"id": f"short {key}", "fn": "fold", "args": [leaf, proof[:-1]]})
            other = _hex(rng.randbytes(32))
            calls.append({"id": f"other leaf {key}", "fn": "fold", "args": [other, proof]})
    results = run_node("eval_module.mjs", calls)
    roots = {r["id"]: r for r in results}
    for call_id, value in expected.items():
        assert roots[call_id].get("value") == value, call_id
    tampered = [r for r in results if not r["id"].startswith(("leaf", "fold"))]
    assert len(tampered) > 50
    for result in tampered:
        size = int(result["id"].split()[-1].split("/")[0])
        root = next(v for k, v in expected.items() if k.startswith(f"fold {size}/"))
        assert result["value"] != root, result
    # malformed input is an error, not a root
    (bad,) = run_node("eval_module.mjs", [{"id": 1, "fn": "fold", "args": ["0x12", []]}])
    assert "error" in bad


def test_checkpoint_signatures_recover_to_their_signer() -> None:
    rng = random.Random(9)
    domain = Domain(chain_id=31337, verifying_contract="0x" + "ab" * 20)
    calls, signers = [], {}
    for n in range(12):
        account = Account.create()
        message = {"eventHash": rng.randbytes(32), "lotKey": rng.randbytes(32), "kind": n % 5}
        signature = _hex(sign_typed(account, "Checkpoint", message, domain))
        params = {
            "chainId": 31337,
            "contract": domain.verifying_contract,
            "eventHash": _hex(message["eventHash"]),
            "lotKey": _hex(message["lotKey"]),
            "kind": ["produced", "inspected", "shipped", "received", "transformed"][n % 5],
        }
        calls.append({"id": f"ok {n}", "fn": "recover", "args": [params, signature]})
        signers[f"ok {n}"] = account.address.lower()
        for field, value in [
            ("kind", (n + 1) % 5),
            ("chainId", 1),
            ("eventHash", "0x" + "00" * 32),
        ]:
            calls.append(
                {
                    "id": f"bad {n} {field}",
                    "fn": "recover",
                    "args": [params | {field: value}, signature],
                }
            )
            signers[f"bad {n} {field}"] = account.address.lower()
    for result in run_node("eval_module.mjs", calls):
        if result["id"].startswith("ok"):
            assert result.get("value") == signers[result["id"]], result
        else:
            assert result.get("value") != signers[result["id"]], result


def test_selectors_and_topic_are_the_abis() -> None:
    abi = load_artifact("Lotlink").abi
    by_name = {entry.get("name"): entry for entry in abi}
    (result,) = run_node("eval_module.mjs", [{"id": 1, "fn": "selectors"}])
    assert result["value"] == {
        "anchoredAt": _hex(function_abi_to_4byte_selector(by_name["anchoredAt"])),
        "hasRole": _hex(function_abi_to_4byte_selector(by_name["hasRole"])),
        "CheckpointRecorded": _hex(event_abi_to_log_topic(by_name["CheckpointRecorded"])),
    }
    json.dumps(result)
