"""Schema validation of EPCIS documents and events, and Lotlink's eventTime rule."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lotlink.bench.event_hash import EPCIS_CONTEXT_URL, epcis_document, lotlink_style_events
from lotlink.epcis.validation import (
    _document_validators,
    _event_validators,
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


# --- The fast path (jsonschema-rs) against python-jsonschema ---------------------------------
#
# validation.py accepts what jsonschema-rs finds valid without asking python-jsonschema; these
# tests hold the two to the rule it documents: nothing python-jsonschema rejects is accepted,
# and where only jsonschema-rs rejects, its errors name the field.

_REPLACEMENTS: tuple[Any, ...] = (None, 7, "x", {}, [])
_Path = tuple[str | int, ...]


def _members(node: Any, path: _Path = ()) -> Iterator[_Path]:
    if not isinstance(node, dict | list):
        return
    for key, child in node.items() if isinstance(node, dict) else enumerate(node):
        yield (*path, key)
        yield from _members(child, (*path, key))


def _at(node: Any, path: _Path) -> Any:
    for key in path:
        node = node[key]
    return node


def _changed(document: dict[str, Any], path: _Path, change: Callable[[Any, Any], None]) -> Any:
    mutated = copy.deepcopy(document)
    change(_at(mutated, path[:-1]), path[-1])
    return mutated


def _mutations(document: dict[str, Any], seen: set[Hashable]) -> Iterator[dict[str, Any]]:
    """Copies of a one-event ``document`` with one change each, for every member whose place in
    the schema (event type, path without list indices, JSON type) is not in ``seen`` yet: the
    member replaced by a value of each JSON type and, for a string, by itself and a newline;
    deleted; for an object, given a stray key."""
    kind = document["epcisBody"]["eventList"][0].get("type")
    for path in [(), *_members(document)]:
        value = _at(document, path)
        place = (kind, tuple("*" if isinstance(k, int) else k for k in path), type(value))
        if place in seen:
            continue
        seen.add(place)
        if isinstance(value, dict):
            yield _changed(document, (*path, "stray key"), lambda node, key: node.update({key: 1}))
        if not path:
            continue
        changes = [*_REPLACEMENTS, value + "\n"] if isinstance(value, str) else _REPLACEMENTS
        for new in changes:
            yield _changed(document, path, lambda node, key, new=new: node.__setitem__(key, new))
        yield _changed(document, path, lambda node, key: node.__delitem__(key))


def _one_event_documents(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {**document, "epcisBody": {**document["epcisBody"], "eventList": [event]}}
        for event in document["epcisBody"]["eventList"]
    ]


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.stem)
def test_fast_path_agrees_with_python_jsonschema_on_vectors(path: Path) -> None:
    document, _ = load_vector(path)
    documents, events = _document_validators(), _event_validators()
    assert documents.fast.is_valid(document) and documents.explaining.is_valid(document)
    for event in document["epcisBody"]["eventList"]:
        assert events.fast.is_valid(event) and events.explaining.is_valid(event)


def test_nothing_python_jsonschema_rejects_is_accepted() -> None:
    # Every vector and Lotlink's own events, one event per document, changed at every place in
    # the schema they reach: whatever jsonschema-rs accepts, python-jsonschema accepts too (the
    # fast path trusts this), and validate_document accepts exactly that.
    validators = _document_validators()
    documents = [load_vector(path)[0] for path in VECTOR_FILES]
    documents.append(epcis_document(lotlink_style_events(50, seed=5)))
    seen: set[Hashable] = set()
    outcomes: Counter[str] = Counter()
    for one_event in [one for document in documents for one in _one_event_documents(document)]:
        for mutated in _mutations(one_event, seen):
            fast = validators.fast.is_valid(mutated)
            if fast:
                assert validators.explaining.is_valid(mutated), (
                    f"jsonschema-rs accepts what python-jsonschema rejects: {mutated}"
                )
            try:
                validate_document(mutated)
            except EpcisValidationError as error:
                assert not fast, f"{error} for a valid document"
                assert error.path.startswith("$") and error.errors
                outcomes["rejected"] += 1
            else:
                assert fast, f"accepted although jsonschema-rs rejects it: {mutated}"
                outcomes["accepted"] += 1
    assert outcomes["accepted"] > 300 and outcomes["rejected"] > 900


def _capture_document() -> dict[str, Any]:
    # The shape POST /epcis/capture takes from Lotlink's clients: 50 events, the fourth an
    # ObjectEvent OBSERVE with a quantity, a read point and a Lotlink extension.
    return epcis_document(lotlink_style_events(50, seed=3))


def _set(*path: str | int, to: Any) -> Callable[[dict[str, Any]], None]:
    def change(event: dict[str, Any]) -> None:
        _at(event, path[:-1])[path[-1]] = to

    return change


def _delete(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda event: event.pop(name)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (_delete("eventTime"), "eventTime", "required"),
        (_set("quantityList", 0, "quantity", to="many"), "quantityList[0].quantity", "number"),
        (_set("action", to="MOVE"), "action", "'MOVE'"),
        # Only jsonschema-rs checks these: python-jsonschema alone would accept every one, so
        # they fail if the fast path is bypassed or answers "valid" without looking.
        (_set("eventTime", to="2025-02-30T09:30:00.000+01:00"), "eventTime", "date-time"),
        (_set("eventTime", to="2025-03-01 09:30:00.000Z"), "eventTime", "date-time"),
        (_set("readPoint", "id", to="not a uri"), "readPoint.id", "uri"),
        (_set("quantityList", 0, "uom", to="KGM\n"), "quantityList[0].uom", "^[A-Z0-9]{2,3}$"),
        (
            _set("quantityList", 0, "quantity", to=float("nan")),
            "quantityList[0].quantity",
            "number",
        ),
    ],
    ids=[
        "missing",
        "wrong-type",
        "bad-enum",
        "no-such-day",
        "space-for-T",
        "not-a-uri",
        "newline-after-unit",
        "nan",
    ],
)
def test_a_bad_event_in_a_capture_document_is_named(
    change: Callable[[dict[str, Any]], None], field: str, words: str
) -> None:
    document = _capture_document()
    change(document["epcisBody"]["eventList"][3])
    error = _rejected(document)
    assert error.path == f"$.epcisBody.eventList[3].{field}"
    assert words in error.reason
    assert (error.path, error.reason) in error.errors
    assert f"invalid EPCIS at {error.path}" in str(error)


def test_only_jsonschema_rs_errors_are_all_kept() -> None:
    document = _capture_document()
    document["creationDate"] = "yesterday"
    document["epcisBody"]["eventList"][7]["bizLocation"]["id"] = "not a uri"
    error = _rejected(document)
    assert error.path == "$.creationDate"
    assert error.reason == '"yesterday" is not a "date-time"'
    assert [path for path, _ in error.errors] == [
        "$.creationDate",
        "$.epcisBody.eventList[7].bizLocation.id",
    ]


def test_a_standalone_event_with_a_bad_time_is_named() -> None:
    event = lotlink_style_events(1, seed=11)[0]
    event["eventTime"] = "2025-03-01T09:30:00.000+01:00Z"
    with pytest.raises(EpcisValidationError) as caught:
        validate_event(event)
    assert caught.value.path == "$.eventTime"
    assert "date-time" in caught.value.reason


@pytest.mark.parametrize("on_event", [False, True], ids=["document", "event"])
def test_context_objects_equal_as_numbers_are_not_unique(on_event: bool) -> None:
    # jsonschema-rs takes 2**64 and 2.0**64 as different items; JSON and python-jsonschema as
    # one number, so the @context array repeats an item.
    context = [EPCIS_CONTEXT_URL, {"ex:size": 2**64}, {"ex:size": 2.0**64}]
    document = _capture_document()
    if on_event:
        document["epcisBody"]["eventList"][3]["@context"] = context
    else:
        document["@context"] = context
    error = _rejected(document)
    where = "$.epcisBody.eventList[3]" if on_event else "$"
    assert error.path == f"{where}['@context']"
    assert "non-unique" in error.reason


def test_text_jsonschema_rs_cannot_read_is_judged_by_python_jsonschema() -> None:
    # A lone surrogate ("\ud800" in JSON) is no UTF-8: jsonschema-rs raises reading it.
    document = _capture_document()
    event = document["epcisBody"]["eventList"][3]
    event["readPoint"]["id"] = "urn:x:\ud800"
    event["action"] = "MOVE"
    assert _rejected(document).path == "$.epcisBody.eventList[3].action"
