"""Preparing a capture's events step by step still fails as event by event would."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from eth_account import Account

from fixtures.writepath import WritePath
from lotlink.errors import InvalidInputError, KeystoreError
from lotlink.services.checkpoints import EventDraft, Signer, TouchedLot, prepare_events
from lotlink.vocabulary import CheckpointKind

_LOT = TouchedLot(lot_key="0x" + "11" * 32, field="$.epcisBody.eventList[0].quantityList[0]")


def _event(previous: Sequence[bytes]) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventTime": "2026-03-01T00:00:00.000Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "bizStep": "inspecting",
        "lotlink:previous": [],
    }


def _unmakeable(previous: Sequence[bytes]) -> dict[str, Any]:
    raise InvalidInputError(field="$.epcisBody.eventList[1]", reason="cannot be made")


def _draft(make_event: Any, signature: bytes | None = None) -> EventDraft:
    return EventDraft(
        kind=CheckpointKind.INSPECTED,
        lots=[_LOT],
        make_event=make_event,
        stated_previous=[],
        signature=signature,
        documents=[],
    )


def test_the_first_events_error_wins_though_a_later_event_fails_at_an_earlier_step(
    write_path: WritePath,
) -> None:
    # The first event fails when it is signed (no keystore holds this custodial key), the
    # second already when it is made: event by event, the first event's error comes first.
    signer = Signer(Account.create().address, custodial=True, gln=None)
    drafts = [_draft(_event), _draft(_unmakeable)]
    with pytest.raises(KeystoreError):
        prepare_events(write_path.chain, signer, drafts)


def test_a_refused_signature_is_kept_and_a_later_events_error_is_raised(
    write_path: WritePath,
) -> None:
    signer = Signer(Account.create().address, custodial=False, gln=None)
    refused = prepare_events(write_path.chain, signer, [_draft(_event, b"\x01" * 65)])
    assert refused.signed[0] is not None and refused.signed[0].refusal is not None
    with pytest.raises(InvalidInputError, match="cannot be made"):
        prepare_events(
            write_path.chain, signer, [_draft(_event, b"\x01" * 65), _draft(_unmakeable)]
        )
