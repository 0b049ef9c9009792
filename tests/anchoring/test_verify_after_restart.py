"""Receipts and evidence still verify after the managed anvil restarts from its saved state.

anvil started from a state file has no state for the blocks before the restart, so `hasRole`
at an anchoring block cannot be asked any more. The verifiers then read the signer's role from
the contract's RoleGranted/RoleRevoked logs; when the node can answer neither, the role check
comes out as a named outcome ("could not be checked"), never as a node error.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from eth_account import Account
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from web3 import HTTPProvider, Web3

from anchoring.builders import CUSTODIAL_PASSPHRASE, Submitter, store_custodial_key
from anchoring.processes import OwnChain, no_state_at, restart
from indexer.test_faults import faulty_endpoint
from lotlink.anchoring.anchorer import Anchorer
from lotlink.anchoring.receipts import receipt_document
from lotlink.anchoring.verify import verify_receipt
from lotlink.chain.node import dev_accounts
from lotlink.db import make_engine
from lotlink.models import AnchorReceipt, Checkpoint, Custody
from lotlink.verify_bundle import verify_bundle
from lotlink.vocabulary import Role
from verifyjs.conftest import run_node

LOTLINK = [sys.executable, "-m", "lotlink.cli"]


def _drain(chain: OwnChain, **settings: Any) -> None:
    """Anchors everything accepted so far, in-process."""
    engine = make_engine(chain.settings.effective_database_url)
    try:
        Anchorer.from_settings(chain.settings.model_copy(update=settings), engine=engine).drain()
    finally:
        engine.dispose()


def _receipts(chain: OwnChain, digests: list[str]) -> list[dict[str, Any]]:
    with chain.sessions() as session:
        checkpoints = session.scalars(
            select(Checkpoint)
            .where(Checkpoint.digest.in_(digests))
            .options(selectinload(Checkpoint.receipt).selectinload(AnchorReceipt.batch))
        ).all()
        by_digest = {
            c.digest: receipt_document(
                c, chain_id=chain.lotlink.chain_id, contract_address=chain.lotlink.address
            )
            for c in checkpoints
        }
    return [by_digest[d] for d in digests]


def _bundle(chain: OwnChain, receipts: list[dict[str, Any]]) -> dict[str, Any]:
    """An evidence bundle of just these events (no lots, recalls or certificates)."""
    return {
        "chainId": chain.lotlink.chain_id,
        "contract": chain.lotlink.address,
        "events": receipts,
        "lots": [],
        "recalls": [],
        "certificates": [],
    }


def _cli_verify(
    bundle: dict[str, Any], rpc: str, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    return subprocess.run(
        [*LOTLINK, "verify", str(path), "--rpc", rpc], capture_output=True, text=True, check=False
    )


def _anchor_batch_and_direct(chain: OwnChain) -> list[dict[str, Any]]:
    """Two batched events and one direct record of the supplier (whose key the service holds:
    only custodial events are recorded directly), anchored; their receipts."""
    store_custodial_key(chain.settings, chain.supplier)
    batched = Submitter(
        chain.sessions, chain.lotlink.domain, chain.supplier, custody=Custody.CUSTODIAL
    )
    digests = batched.accept(2)
    _drain(chain)
    direct = Submitter(
        chain.sessions,
        chain.lotlink.domain,
        chain.supplier,
        custody=Custody.CUSTODIAL,
        lot_code="L2",
    )
    direct.register_lot(chain.lotlink)
    digests += direct.accept(1)
    _drain(chain, anchor_mode="direct", keystore_password=SecretStr(CUSTODIAL_PASSPHRASE))
    receipts = _receipts(chain, digests)
    assert [(r["status"], r["mode"]) for r in receipts] == [
        ("anchored", "batch"),
        ("anchored", "batch"),
        ("anchored", "direct"),
    ]
    return receipts


def test_receipts_and_bundles_verify_after_anvil_restarts(
    own_chain: OwnChain, tmp_path: Path
) -> None:
    receipts = _anchor_batch_and_direct(own_chain)
    w3 = own_chain.lotlink.w3
    assert all(verify_receipt(r, w3) == [] for r in receipts)

    restart(own_chain)

    # The restarted node really has no state for the anchoring blocks...
    assert all(no_state_at(own_chain, int(r["blockNumber"])) for r in receipts)
    # ...and every receipt verifies all the same, through each public path.
    for receipt in receipts:
        assert verify_receipt(receipt, w3) == [], receipt["digest"]
    report = verify_bundle(_bundle(own_chain, receipts), w3)
    assert report.ok, report.lines()
    assert report.checked["roles"] == 3
    done = _cli_verify(_bundle(own_chain, receipts), own_chain.anvil.url, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "roles          ok   3/3 passed" in done.stdout


def _page_evidence(chain: OwnChain, receipts: list[dict[str, Any]], rpc: str) -> str:
    """The evidence a scan page embeds for these receipts (the in-browser verifier's input)."""
    return json.dumps(
        {
            "chainId": chain.lotlink.chain_id,
            "contract": chain.lotlink.address,
            "rpcUrl": rpc,
            "confirmations": 0,
            "events": [
                {
                    "digest": r["digest"],
                    "eventId": r["eventID"],
                    "epcisDocument": r["event"],
                    "signer": r["signer"],
                    "signature": r["signature"],
                    "kind": r["kind"],
                    "lotKey": r["lotKey"],
                    "receipt": {
                        "leaf": r["leaf"],
                        "proof": r["proof"],
                        "root": r["root"],
                        "txHash": r["transactionHash"],
                        "blockNumber": r["blockNumber"],
                        "logIndex": r["logIndex"],
                        "mode": r["mode"],
                    },
                }
                for r in receipts
            ],
        }
    )


def test_the_in_browser_verifier_verifies_after_anvil_restarts(own_chain: OwnChain) -> None:
    receipts = _anchor_batch_and_direct(own_chain)
    restart(own_chain)

    (result,) = run_node(
        "check_batch.mjs", [_page_evidence(own_chain, receipts, own_chain.anvil.url)]
    )
    assert result["status"] == "verified", result
    assert [e["steps"]["chain"]["status"] for e in result["events"]] == ["pass"] * 3


def test_roles_from_the_logs_say_what_the_state_said(own_chain: OwnChain) -> None:
    """Before the restart the state answers, after it the logs: the outcomes are the same. A
    signer who never held the role fails; one whose role was revoked after anchoring passes."""
    receipts = _anchor_batch_and_direct(own_chain)
    stranger = dev_accounts(6)[5]
    outsider = Submitter(own_chain.sessions, own_chain.lotlink.domain, stranger, lot_code="L3")
    outsider_digests = outsider.accept(1)
    _drain(own_chain)
    receipts += _receipts(own_chain, outsider_digests)
    admin = own_chain.settings.admin_key
    assert admin is not None
    own_chain.lotlink.transact(
        "revokeRole",
        Role.SUPPLIER.id,
        own_chain.supplier.address,
        sender=Account.from_key(admin.get_secret_value()),
    )
    w3 = own_chain.lotlink.w3
    from_state = [verify_receipt(r, w3) for r in receipts]
    bundle_from_state = verify_bundle(_bundle(own_chain, receipts), w3)

    restart(own_chain)

    assert all(no_state_at(own_chain, int(r["blockNumber"])) for r in receipts)
    block = receipts[-1]["blockNumber"]
    outsider_problem = f"{stranger.address} was not supplier at block {block}, as produced needs"
    assert from_state == [[], [], [], [outsider_problem]]
    assert [verify_receipt(r, w3) for r in receipts] == from_state
    from_logs = verify_bundle(_bundle(own_chain, receipts), w3)
    assert from_logs.lines() == bundle_from_state.lines()
    assert from_logs.failures["roles"] == [
        f"event {receipts[-1]['digest']}: {stranger.address} was not supplier at block {block}"
    ]
    (page,) = run_node(
        "check_batch.mjs", [_page_evidence(own_chain, receipts, own_chain.anvil.url)]
    )
    assert [e["status"] for e in page["events"]] == ["verified"] * 3 + ["failed"]
    assert page["events"][3]["steps"]["chain"]["text"] == (
        f"{stranger.address} was not supplier at block {block}"
    )


def test_a_node_without_state_or_role_logs_gives_a_named_outcome(
    own_chain: OwnChain, tmp_path: Path
) -> None:
    """An endpoint that keeps no state for the anchoring block and refuses wide eth_getLogs
    ranges (as hosted endpoints do) cannot answer the role check: every verifier says so, in
    the node's words, and none calls the receipt verified or tampered."""
    receipts = _anchor_batch_and_direct(own_chain)
    restart(own_chain)
    block = int(receipts[0]["blockNumber"])

    with faulty_endpoint(own_chain.anvil.url) as (url, endpoint):
        w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 30}))
        problems = verify_receipt(receipts[0], w3)
        report = verify_bundle(_bundle(own_chain, receipts), w3)
        done = _cli_verify(_bundle(own_chain, receipts), url, tmp_path)
        (page,) = run_node("check_batch.mjs", [_page_evidence(own_chain, receipts, url)])
        assert endpoint.refused > 0

    signer = own_chain.supplier.address
    reason = f"the node keeps no state for block {block} (BlockOutOfRangeError: block height is "
    refused = "refuses its RoleGranted/RoleRevoked logs (query returned more than 10000 results)"
    assert len(problems) == 1, problems
    assert problems[0].startswith(
        f"whether {signer} was supplier at block {block} could not be checked: {reason}"
    )
    assert problems[0].endswith(f" and {refused}")

    assert not report.ok and not report.failed
    assert report.unchecked_groups == ["roles"]
    assert len(report.unchecked["roles"]) == 3
    assert report.checked["roles"] == 3
    assert "roles          ?    0/3 passed, 3 not checked" in report.lines()

    assert done.returncode == 3, done.stdout + done.stderr
    assert "roles          ?    0/3 passed, 3 not checked" in done.stdout
    assert f"? event {receipts[0]['digest']}: {problems[0]}" in done.stdout
    assert done.stderr.strip().startswith("lotlink verify: 3 checks (roles) could not be made")
    assert "Traceback" not in done.stderr

    assert page["status"] == "partial", page
    for event in page["events"]:
        assert event["status"] == "unchecked"
        chain_step = event["steps"]["chain"]
        assert chain_step["status"] == "unchecked"
        assert chain_step["text"].startswith(f"Whether {signer} was supplier at block ")
        assert chain_step["text"].endswith(f" and {refused}")
        assert event["text"] == f"Not checked: {chain_step['text']}"
