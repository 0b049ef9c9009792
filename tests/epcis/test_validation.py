"""Schema validation of EPCIS documents and events, and Lotlink's eventTime rule."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from lotlink.bench.event_hash import epcis_document, lotlink_style_events
from lotlink.epcis.validation import (
    check_lotlink_event_rules,
    validate_document,
    validate_event,
)
from lotlink.errors import EpcisValidationError, LotlinkError

from .conftest import SHARED, VECTOR_FILES, load_vector

PACKAGED_SCHEMA = (
    Path(__file__).resolve().parents[2] / "backend/lotlink/epcis/schemas/EPCIS-JSON-Schema.json"
)


def test_packaged_schema_is_gs1s_schema_unchanged() -> None:
    shared = SHARED / "schemas/epcis/EPCIS-JSON-Schema.json"
    assert PACKAGED_SCHEMA.read_bytes() == shared.read_bytes()


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.stem)
def test_vector_documents_are_valid(path: Path) -> None:
    document, _ = load_vector(path)
    validate_document(document)
    for event in document["epcisBody"]["eventList"]:
        validate_event(event)


def test_lotlink_style_events_are_valid() -> None:
    events = lotlink_style_events(50, seed=3)
    validate_document(epcis_document(events))
    for event in events:
        validate_event(event)
        check_lotlink_event_rules(event)


def _single_event_document() -> dict[str, Any]:
    document, _ = load_vector(VECTOR_FILES[0].with_name("epcisDocWithSingleEvent.jsonld"))
    return document


def _rejected(document: Any) -> EpcisValidationError:
    with pytest.raises(EpcisValidationError) as caught:
        validate_document(document)
    return caught.value


def test_bad_action_names_its_path() -> None:
    document = _single_event_document()
    document["epcisBody"]["eventList"][0]["action"] = "MOVE"
    error = _rejected(document)
    assert isinstance(error, LotlinkError)
    assert error.path == "$.epcisBody.eventList[0].action"
    assert "$.epcisBody.eventList[0].action" in str(error) and "'MOVE'" in str(error)
    assert error.errors and all(path == error.path for path, _ in error.errors)


def test_missing_required_field_names_the_field() -> None:
    document = _single_event_document()
    del document["epcisBody"]["eventList"][0]["eventTimeZoneOffset"]
    error = _rejected(document)
    assert error.path == "$.epcisBody.eventList[0].eventTimeZoneOffset"
    assert "required" in error.reason


def test_wrong_type_in_a_quantity_names_its_path() -> None:
    event = lotlink_style_events(1, seed=11)[0]
    event["type"], event["action"] = "ObjectEvent", "ADD"
    event["quantityList"] = [
        {"epcClass": "https://id.gs1.org/01/09521234543213/10/L1", "quantity": "many"}
    ]
    with pytest.raises(EpcisValidationError) as caught:
        validate_event(event)
    assert caught.value.path == "$.quantityList[0].quantity"


def test_all_errors_are_kept() -> None:
    document = _single_event_document()
    event = document["epcisBody"]["eventList"][0]
    event["action"] = "MOVE"
    event["readPoint"] = {"id": 42}
    error = _rejected(document)
    paths = {path for path, _ in error.errors}
    assert "$.epcisBody.eventList[0].action" in paths
    assert "$.epcisBody.eventList[0].readPoint.id" in paths


def test_document_without_body_is_rejected() -> None:
    document = _single_event_document()
    del document["epcisBody"]
    assert _rejected(document).path == "$.epcisBody"


def test_standalone_event_needs_its_context() -> None:
    event = copy.deepcopy(_single_event_document()["epcisBody"]["eventList"][0])
    assert _rejected(event).path == "$.@context"
    validate_event(event)


# --- Lotlink's eventTime rule --------------------------------------------------------------


def _event(event_time: Any, offset: Any = "+01:00") -> dict[str, Any]:
    return {"type": "ObjectEvent", "eventTime": event_time, "eventTimeZoneOffset": offset}


@pytest.mark.parametrize(
    ("event_time", "offset"),
    [
        ("2025-03-01T09:30:00.000+01:00", "+01:00"),
        ("2025-03-01T08:30:00.123Z", "+00:00"),
        ("2025-03-01T23:59:59.999-14:00", "-14:00"),
        ("2025-03-01T09:30:00.000+14:00", "+14:00"),
        ("2025-03-01T09:30:00.000+05:45", "+05:45"),
    ],
)
def test_event_time_rule_accepts(event_time: str, offset: str) -> None:
    check_lotlink_event_rules(_event(event_time, offset))


@pytest.mark.parametrize(
    ("event_time", "offset", "path"),
    [
        ("2025-03-01T09:30:00+01:00", "+01:00", "$.eventTime"),  # no fraction
        ("2025-03-01T09:30:00.12+01:00", "+01:00", "$.eventTime"),  # two digits
        ("2025-03-01T09:30:00.1234+01:00", "+01:00", "$.eventTime"),  # four digits
        ("2025-03-01T09:30:00.000", "+01:00", "$.eventTime"),  # no offset
        ("2025-03-01T09:30:00.000+15:00", "+01:00", "$.eventTime"),  # offset too large
        ("2025-03-01 09:30:00.000Z", "+00:00", "$.eventTime"),
        (None, "+01:00", "$.eventTime"),
        ("2025-03-01T09:30:00.000+01:00", "+14:30", "$.eventTimeZoneOffset"),
        ("2025-03-01T09:30:00.000+01:00", "+1:00", "$.eventTimeZoneOffset"),
        ("2025-03-01T09:30:00.000+01:00", "+01:60", "$.eventTimeZoneOffset"),
        ("2025-03-01T09:30:00.000+01:00", "Z", "$.eventTimeZoneOffset"),
        ("2025-03-01T09:30:00.000+01:00", None, "$.eventTimeZoneOffset"),
    ],
)
def test_event_time_rule_rejects(event_time: Any, offset: Any, path: str) -> None:
    with pytest.raises(EpcisValidationError) as caught:
        check_lotlink_event_rules(_event(event_time, offset))
    assert caught.value.path == path
    assert path in str(caught.value)


def test_event_time_rule_reports_both_fields() -> None:
    with pytest.raises(EpcisValidationError) as caught:
        check_lotlink_event_rules(_event("2025-03-01T09:30:00Z", "+99:00"))
    assert [p for p, _ in caught.value.errors] == ["$.eventTime", "$.eventTimeZoneOffset"]
