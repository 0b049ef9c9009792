"""check.js end to end in node against a real anvil: a real anchored batch and a direct record."""

from __future__ import annotations

import copy
import datetime
import json
import socket
from decimal import Decimal
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from fixtures.world import GLNS, World, gtin
from lotlink.anchoring.manifest import LEAF_ENCODING
from lotlink.chain.merkle import StandardMerkleTree
from lotlink.chain.typed_data import Domain, sign_typed
from lotlink.epcis.build import (
    CONTEXT,
    CheckpointSpec,
    LotRef,
    QuantityLine,
    build_event,
    digest_of,
    finish_event,
    stored_document,
)
from lotlink.vocabulary import CheckpointKind, Role

from .conftest import run_node

GTIN = gtin("0952123400009")


def _hex(data: bytes) -> str:
    return "0x" + bytes(data).hex()


def _event(kind: CheckpointKind, lot: str, n: int) -> tuple[dict[str, Any], bytes]:
    from lotlink.epcis.build import BIZ_STEPS, DISPOSITIONS

    spec = CheckpointSpec(
        kind=kind,
        biz_step=BIZ_STEPS[kind][0],
        disposition=DISPOSITIONS[kind][0],
        event_time=datetime.datetime(2025, 5, 1, 8, n, 0, tzinfo=datetime.UTC),
        location_gln=str(GLNS[Role.SUPPLIER]),
        lots=[QuantityLine(LotRef.of(GTIN, lot), Decimal("12.5") + n, "KGM")],
    )
    event = build_event(spec)
    digest = digest_of(event)
    text = stored_document(finish_event(event, digest), context=CONTEXT, created=spec.event_time)
    return json.loads(text), digest


class Page:
    """The evidence a scan page would embed, built from a real deployment."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.domain = Domain(
            chain_id=world.lotlink.chain_id, verifying_contract=world.lotlink.address
        )
        self.lot_key = world.register_lot(GTIN, "VERIFY-1")
        self.supplier: LocalAccount = world.actors[Role.SUPPLIER]

    def record(
        self, kind: CheckpointKind, n: int, signer: LocalAccount | None = None
    ) -> dict[str, Any]:
        document, digest = _event(kind, "VERIFY-1", n)
        signer = signer or self.supplier
        message = {"eventHash": digest, "lotKey": self.lot_key, "kind": kind.code}
        return {
            "digest": _hex(digest),
            "eventId": document["epcisBody"]["eventList"][0]["eventID"],
            "epcisDocument": document,
            "signer": signer.address,
            "signature": _hex(sign_typed(signer, "Checkpoint", message, self.domain)),
            "kind": kind.value,
            "lotKey": _hex(self.lot_key),
            "receipt": None,
        }

    def anchor_batch(self, records: list[dict[str, Any]]) -> None:
        values = [(r["digest"], r["lotKey"], r["signer"]) for r in records]
        tree = StandardMerkleTree.of(values, LEAF_ENCODING)
        receipt = self.world.send(
            "anchorBatch",
            bytes.fromhex(tree.root[2:]),
            bytes(32),
            len(values),
            "urn:test",
            by=self.world.actors[Role.ANCHORER],
        )
        dump = tree.dump()
        for index, record in enumerate(records):
            record["receipt"] = {
                "leaf": dump["tree"][dump["values"][index]["treeIndex"]],
                "proof": tree.get_proof(index),
                "root": tree.root,
                "txHash": _hex(receipt["transactionHash"]),
                "blockNumber": int(receipt["blockNumber"]),
                "logIndex": 0,
                "mode": "batch",
            }

    def record_direct(self, record: dict[str, Any]) -> None:
        kind = CheckpointKind(record["kind"])
        receipt = self.world.send(
            "recordCheckpoint",
            bytes.fromhex(record["digest"][2:]),
            self.lot_key,
            kind.code,
            by=self.supplier,
        )
        log = receipt["logs"][-1]
        leaf = StandardMerkleTree.of(
            [(record["digest"], record["lotKey"], record["signer"])], LEAF_ENCODING
        ).root
        record["receipt"] = {
            "leaf": leaf,
            "proof": [],
            "root": leaf,
            "txHash": _hex(receipt["transactionHash"]),
            "blockNumber": int(receipt["blockNumber"]),
            "logIndex": int(log["logIndex"]),
            "mode": "direct",
        }

    def evidence(self, records: list[dict[str, Any]], **overrides: Any) -> str:
        body = {
            "chainId": self.world.lotlink.chain_id,
            "contract": self.world.lotlink.address,
            "rpcUrl": self.world.rpc_url,
            "confirmations": 0,
            "events": records,
        } | overrides
        return json.dumps(body)


@pytest.fixture
def page(world: World) -> Page:
    return Page(world)


@pytest.fixture
def anchored(page: Page) -> list[dict[str, Any]]:
    batch = [page.record(CheckpointKind.PRODUCED, n) for n in range(3)]
    page.anchor_batch(batch)
    direct = page.record(CheckpointKind.SHIPPED, 10)
    page.record_direct(direct)
    page.world.w3.provider.make_request("anvil_mine", [2])  # type: ignore[arg-type]
    return [*batch, direct]


def _check(*evidence: str) -> list[dict[str, Any]]:
    return run_node("check_batch.mjs", list(evidence))


def test_anchored_batch_and_direct_record_verify(
    page: Page, anchored: list[dict[str, Any]]
) -> None:
    (result,) = _check(page.evidence(anchored, confirmations=2))
    assert result["status"] == "verified", result
    assert result["text"] == "Checked against the chain: all 4 records are unchanged"
    for event in result["events"]:
        assert event["text"] == "Checked against the chain: this record is unchanged"
        assert {s["status"] for s in event["steps"].values()} == {"pass"}, event


def test_failures_are_reported_in_plain_words(page: Page, anchored: list[dict[str, Any]]) -> None:
    edited = copy.deepcopy(anchored)
    edited[1]["epcisDocument"]["epcisBody"]["eventList"][0]["disposition"] = "in_progress"
    unanchored = [page.record(CheckpointKind.PRODUCED, n) for n in range(20, 22)]
    tree = StandardMerkleTree.of(
        [(r["digest"], r["lotKey"], r["signer"]) for r in unanchored], LEAF_ENCODING
    )
    for index, record in enumerate(unanchored):
        record["receipt"] = dict(
            anchored[0]["receipt"], root=tree.root, proof=tree.get_proof(index), leaf=None
        )
    forged = copy.deepcopy(anchored[:1])
    stranger_sig = page.record(CheckpointKind.PRODUCED, 0, signer=page.world.stranger)["signature"]
    forged[0]["signature"] = stranger_sig
    wrong_tx = copy.deepcopy(anchored[3:])
    wrong_tx[0]["receipt"]["txHash"] = anchored[0]["receipt"]["txHash"]
    results = _check(
        page.evidence(edited),
        page.evidence(unanchored),
        page.evidence(anchored, chainId=999),
        page.evidence(anchored, confirmations=1000),
        page.evidence(forged),
        page.evidence(wrong_tx),
    )
    edited_result, unanchored_result, chain_result, shallow, forged_result, wrong_tx_result = (
        results
    )

    assert edited_result["status"] == "failed"
    statuses = [e["status"] for e in edited_result["events"]]
    assert statuses == ["verified", "failed", "verified", "verified"]
    assert (
        edited_result["events"][1]["text"]
        == "This record does not match what was anchored on the chain"
    )
    assert edited_result["events"][1]["steps"]["hash"]["status"] == "fail"
    assert (
        edited_result["text"]
        == "1 of 4 records on this page do not match what was anchored on the chain"
    )

    assert [e["status"] for e in unanchored_result["events"]] == ["failed", "failed"]
    assert "never anchored" in unanchored_result["events"][0]["steps"]["chain"]["text"]

    assert chain_result["status"] == "failed"
    assert all(
        "names chain 999" in e["steps"]["chain"]["text"] for e in chain_result["events"][:1]
    ) or all(e["steps"]["signature"]["status"] == "fail" for e in chain_result["events"])
    assert all(e["status"] == "failed" for e in chain_result["events"])

    assert all("1000 needed" in e["steps"]["chain"]["text"] for e in shallow["events"])

    assert forged_result["events"][0]["steps"]["signature"]["status"] == "fail"
    assert forged_result["status"] == "failed"

    assert wrong_tx_result["events"][0]["steps"]["chain"]["status"] == "fail"


def test_a_wrong_chain_id_alone_fails_the_chain_step(
    page: Page, anchored: list[dict[str, Any]]
) -> None:
    # Re-sign for chain 999 so only the endpoint's chain id is wrong.
    domain = Domain(chain_id=999, verifying_contract=page.world.lotlink.address)
    records = copy.deepcopy(anchored[:1])
    message = {
        "eventHash": bytes.fromhex(records[0]["digest"][2:]),
        "lotKey": page.lot_key,
        "kind": CheckpointKind.PRODUCED.code,
    }
    records[0]["signature"] = _hex(sign_typed(page.supplier, "Checkpoint", message, domain))
    (result,) = _check(page.evidence(records, chainId=999))
    event = result["events"][0]
    assert event["steps"]["signature"]["status"] == "pass"
    assert event["steps"]["chain"]["status"] == "fail"
    assert f"the endpoint is chain {page.world.lotlink.chain_id}" in event["steps"]["chain"]["text"]


def test_unreachable_pending_and_unsupported(page: Page, anchored: list[dict[str, Any]]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    pending = page.record(CheckpointKind.INSPECTED, 30)
    unsupported = copy.deepcopy(anchored[0])
    unsupported["epcisDocument"]["epcisBody"]["eventList"][0]["eventTime"] = "2025-05-01 08:00:00Z"
    offline, mixed = _check(
        page.evidence(anchored, rpcUrl=closed),
        page.evidence([anchored[0], pending, unsupported]),
    )
    assert offline["status"] == "unreachable"
    assert offline["text"] == f"Could not reach the chain at {closed}"
    assert all(e["steps"]["hash"]["status"] == "pass" for e in offline["events"])
    assert [e["status"] for e in mixed["events"]] == ["verified", "pending", "unchecked"]
    assert mixed["status"] == "partial"
    assert mixed["events"][2]["text"].startswith("Not checked")
    assert mixed["events"][2]["steps"]["chain"]["status"] == "unchecked"
