"""Faults in direct mode (LOTLINK_ANCHOR_MODE=direct: one recordCheckpoint per custodial
signer's event, Merkle batches for the rest), with real processes: `lotlink anchorer` SIGKILLed
at each step of an event's record, a record still waiting in the node's pool (or dropped from it)
when the anchorer restarts, and the chain stopped mid-stream. The chain is asked each time:
every accepted event has exactly one CheckpointRecorded log, and its stored receipt names it.
"""

from __future__ import annotations

import time

import pytest
from eth_account.signers.local import LocalAccount
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from anchoring.builders import CUSTODIAL_PASSPHRASE, Submitter, store_custodial_key
from anchoring.checks import assert_anchored_exactly_once, assert_recorded_exactly_once
from anchoring.processes import (
    WAIT_SECONDS,
    OwnChain,
    anchorer_log,
    anchorer_process,
    crash_anchorer_at,
    submit_through_outage,
    wait_until_anchored,
)
from fixtures.world import World
from lotlink.anchoring.faults import DIRECT_CRASH_POINTS
from lotlink.chain.contract import LotlinkContract
from lotlink.config import Settings
from lotlink.models import CheckpointKind, Custody
from lotlink.vocabulary import Role

DIRECT_MODE = {"LOTLINK_ANCHOR_MODE": "direct", "LOTLINK_KEYSTORE_PASSWORD": CUSTODIAL_PASSPHRASE}


def custodial_submitter(
    settings: Settings,
    sessions: sessionmaker[Session],
    lotlink: LotlinkContract,
    supplier: LocalAccount,
) -> Submitter:
    """A supplier whose key the service holds, with its lot registered on chain."""
    submitter = Submitter(sessions, lotlink.domain, supplier, custody=Custody.CUSTODIAL)
    store_custodial_key(settings, supplier)
    submitter.register_lot(lotlink)
    return submitter


@pytest.fixture
def custodial(
    world: World, service_settings: Settings, sessions: sessionmaker[Session]
) -> Submitter:
    return custodial_submitter(
        service_settings, sessions, world.lotlink, world.actors[Role.SUPPLIER]
    )


@pytest.fixture
def self_custody(world: World, sessions: sessionmaker[Session]) -> Submitter:
    """An inspector who signs for itself, on the same lot: batched even in direct mode."""
    return Submitter(
        sessions,
        world.lotlink.domain,
        world.actors[Role.INSPECTOR],
        role=Role.INSPECTOR,
        kind=CheckpointKind.INSPECTED,
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("step", DIRECT_CRASH_POINTS)
def test_sigkill_at_each_step_then_restart_records_every_event_once(
    step: str,
    world: World,
    service_settings: Settings,
    sessions: sessionmaker[Session],
    custodial: Submitter,
    self_custody: Submitter,
) -> None:
    start = world.w3.eth.block_number + 1
    recorded = custodial.accept(3)
    batched = self_custody.accept(2)

    crash_anchorer_at(service_settings, step, **DIRECT_MODE)
    recorded += custodial.accept(2)  # accepted while no anchorer runs
    with anchorer_process(service_settings, **DIRECT_MODE):
        wait_until_anchored(sessions, recorded + batched, f"after a crash at {step}")

    assert_recorded_exactly_once(sessions, world.lotlink, recorded, from_block=start)
    assert_anchored_exactly_once(sessions, world.lotlink, batched, from_block=start)


def _rpc(w3: Web3, method: str, *params: object) -> object:
    response = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in response, response
    return response["result"]


def _relayer_waiting(w3: Web3, relayer: str) -> int:
    """How many of the relayer's transactions wait in the node's pool."""
    return int(w3.eth.get_transaction_count(relayer, "pending")) - int(
        w3.eth.get_transaction_count(relayer, "latest")
    )


def _reverted_since(w3: Web3, start: int, sender: str) -> int:
    """How many of `sender`'s transactions were mined, and reverted, since block `start`."""
    reverted = 0
    for number in range(start, int(w3.eth.block_number) + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == sender:  # type: ignore[index]
                reverted += w3.eth.get_transaction_receipt(tx["hash"])["status"] == 0  # type: ignore[index]
    return reverted


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("node", ["keeps it", "drops it"])
def test_record_sent_but_not_mined_at_a_crash_ends_recorded_once(
    node: str,
    world: World,
    service_settings: Settings,
    sessions: sessionmaker[Session],
    custodial: Submitter,
) -> None:
    """The crash leaves the first event's transaction in the node's pool. Kept, it races the
    restarted anchorer's own transaction for the event: the event's signed nonce lets only one
    of them record it. Dropped, the restarted anchorer sends the event again."""
    w3 = world.w3
    relayer = world.actors[Role.ANCHORER].address
    start = w3.eth.block_number + 1
    digests = custodial.accept(3)
    _rpc(w3, "evm_setAutomine", False)
    try:
        crash_anchorer_at(service_settings, "after_send", **DIRECT_MODE)
        assert _relayer_waiting(w3, relayer) == 1
        if node == "drops it":
            _rpc(w3, "anvil_dropAllTransactions")
            _rpc(w3, "evm_setAutomine", True)
        with anchorer_process(service_settings, **DIRECT_MODE):
            if node == "keeps it":
                deadline = time.monotonic() + WAIT_SECONDS
                while _relayer_waiting(w3, relayer) < 2:  # the restart sent the event again
                    assert time.monotonic() < deadline, anchorer_log(service_settings)
                    time.sleep(0.05)
                _rpc(w3, "evm_setAutomine", True)
                _rpc(w3, "evm_mine")
            wait_until_anchored(sessions, digests, f"after a crash (the node {node})")
    finally:
        _rpc(w3, "evm_setAutomine", True)

    assert_recorded_exactly_once(sessions, world.lotlink, digests, from_block=start)
    # Kept: both transactions were mined, and the second one for the event reverted.
    assert _reverted_since(w3, start, relayer) == (1 if node == "keeps it" else 0)


def test_chain_down_for_ten_seconds_direct_records_resume(own_chain: OwnChain) -> None:
    submitter = custodial_submitter(
        own_chain.settings, own_chain.sessions, own_chain.lotlink, own_chain.supplier
    )
    start = own_chain.lotlink.w3.eth.block_number + 1
    before, since = submit_through_outage(own_chain, submitter, **DIRECT_MODE)
    # Verified: receipts from after the restart (anvil keeps no state of older blocks to check
    # the signer's role against).
    assert_recorded_exactly_once(
        own_chain.sessions, own_chain.lotlink, before + since, from_block=start, verify=since[-5:]
    )
