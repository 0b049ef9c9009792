"""Faults with real processes: `lotlink anchorer` SIGKILLed at each step of its cycle, and the
chain stopped mid-stream. Every accepted event still ends anchored exactly once.

Crashes are exact, not timed: LOTLINK_TEST_CRASH_AT makes the process kill itself at a step.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from anchoring.builders import Submitter
from anchoring.checks import assert_anchored_exactly_once
from anchoring.processes import (
    OwnChain,
    anchorer_process,
    crash_anchorer_at,
    submit_through_outage,
    wait_until_anchored,
)
from fixtures.world import World
from lotlink.anchoring.faults import CRASH_POINTS
from lotlink.config import Settings


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("step", CRASH_POINTS)
def test_sigkill_at_each_step_then_restart_anchors_every_event_once(
    step: str,
    world: World,
    service_settings: Settings,
    sessions: sessionmaker[Session],
    submitter: Submitter,
) -> None:
    start = world.w3.eth.block_number + 1
    digests = submitter.accept(7)

    crash_anchorer_at(service_settings, step)
    more = submitter.accept(2)  # accepted while no anchorer runs
    with anchorer_process(service_settings):
        wait_until_anchored(sessions, digests + more, f"after a crash at {step}")

    assert_anchored_exactly_once(sessions, world.lotlink, digests + more, from_block=start)


def test_chain_down_for_ten_seconds_submissions_queue_and_anchoring_resumes(
    own_chain: OwnChain,
) -> None:
    submitter = Submitter(own_chain.sessions, own_chain.lotlink.domain, own_chain.supplier)
    before, since = submit_through_outage(own_chain, submitter)
    # Verified: receipts from after the restart (anvil keeps no state of older blocks to check
    # the signer's role against).
    assert_anchored_exactly_once(
        own_chain.sessions, own_chain.lotlink, before + since, from_block=0, verify=since[-5:]
    )
