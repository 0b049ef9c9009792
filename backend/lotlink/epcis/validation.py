"""Validation of EPCIS 2.0 JSON-LD against GS1's JSON Schema, plus Lotlink's stricter time rules.

The schema (``schemas/EPCIS-JSON-Schema.json``, draft-07, only internal ``$ref``) ships inside
the package so the service never reads ``../shared`` at run time; its validators are compiled
once. Formats (``date-time``, ``uri``) are checked only as far as jsonschema can without optional
packages; Lotlink's own rule on ``eventTime`` covers the timestamps that get hashed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match, relevance

from lotlink.errors import EpcisValidationError

SCHEMA_RESOURCE = "schemas/EPCIS-JSON-Schema.json"
_MAX_REASON = 240

# Exactly three fraction digits and an offset: the hash rounds to milliseconds, so anything
# finer would be silently lost, and a local time without offset is ambiguous.
_EVENT_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(?:Z|(?P<sign>[+-])(?P<h>\d{2}):(?P<m>\d{2}))"
)
_REQUIRED = re.compile(r"'(.+)' is a required property$")
_OFFSET = re.compile(r"(?P<sign>[+-])(?P<h>\d{2}):(?P<m>\d{2})")
_MAX_OFFSET_MINUTES = 14 * 60


@cache
def epcis_schema() -> dict[str, Any]:
    """GS1's EPCIS 2.0 JSON Schema as shipped in this package."""
    text = resources.files("lotlink.epcis").joinpath(SCHEMA_RESOURCE).read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _document_validator() -> Draft7Validator:
    schema = epcis_schema()
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, format_checker=FormatChecker())


@cache
def _event_validator() -> Draft7Validator:
    # An event inside a document: the schema's own per-type dispatch, without the root's demand
    # for an "@context" that only a standalone event carries.
    schema = {
        "$ref": "#/definitions/EPCIS-Document-Event",
        "definitions": epcis_schema()["definitions"],
    }
    return Draft7Validator(schema, format_checker=FormatChecker())


def validate_document(document: Any) -> None:
    """Raise EpcisValidationError unless ``document`` is valid EPCIS 2.0 JSON-LD.

    Accepts what the schema's root accepts: EPCISDocument, EPCISQueryDocument, or a standalone
    event carrying its own ``@context``.
    """
    _raise_if_invalid(_document_validator(), document)


def validate_event(event: Any) -> None:
    """Raise EpcisValidationError unless ``event`` is a valid event of an EPCIS 2.0 document."""
    _raise_if_invalid(_event_validator(), event)


def _raise_if_invalid(validator: Draft7Validator, instance: Any) -> None:
    errors = list(validator.iter_errors(instance))
    if not errors:
        return
    first = best_match(errors, key=relevance)
    assert first is not None
    leaf = _leaf(first)
    everything = sorted(_leaves(errors), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    raise EpcisValidationError(
        path=_field_path(leaf),
        reason=_short(leaf.message),
        errors=[(_field_path(e), _short(e.message)) for e in everything],
    )


def _field_path(error: ValidationError) -> str:
    # A missing property is reported on its parent object; name the field itself.
    if error.validator == "required" and (missing := _REQUIRED.match(error.message)):
        return f"{error.json_path}.{missing[1]}"
    return error.json_path


def _leaf(error: ValidationError) -> ValidationError:
    # if/then and allOf wrap the real failure; report the deepest one, which names the field.
    while error.context:
        error = max(error.context, key=lambda e: len(e.absolute_path))
    return error


def _leaves(errors: list[ValidationError]) -> list[ValidationError]:
    out: list[ValidationError] = []
    for error in errors:
        if error.context:
            out.extend(_leaves(list(error.context)))
        else:
            out.append(error)
    return out


def _short(message: str) -> str:
    return message if len(message) <= _MAX_REASON else message[: _MAX_REASON - 1] + "…"


def _offset_minutes(match: re.Match[str]) -> int | None:
    hours, minutes = int(match["h"]), int(match["m"])
    if minutes >= 60:
        return None
    return hours * 60 + minutes


def check_lotlink_event_rules(event: Mapping[str, Any]) -> None:
    """Raise EpcisValidationError unless the event's times follow Lotlink's rule (issue #3).

    ``eventTime`` must carry exactly three fraction digits and an offset (``Z`` or ±HH:MM), and
    ``eventTimeZoneOffset`` must be ±HH:MM within ±14:00. Applied at capture, on top of the
    schema, because the event hash keeps only milliseconds.
    """
    errors: list[tuple[str, str]] = []
    event_time = event.get("eventTime")
    match = _EVENT_TIME.fullmatch(event_time) if isinstance(event_time, str) else None
    if match is None:
        errors.append(
            ("$.eventTime", f"{event_time!r} must be YYYY-MM-DDThh:mm:ss.sss with Z or ±hh:mm")
        )
    elif match["sign"] is not None and (
        (minutes := _offset_minutes(match)) is None or minutes > _MAX_OFFSET_MINUTES
    ):
        errors.append(("$.eventTime", f"{event_time!r} has an offset beyond ±14:00"))
    offset = event.get("eventTimeZoneOffset")
    offset_match = _OFFSET.fullmatch(offset) if isinstance(offset, str) else None
    if offset_match is None:
        errors.append(("$.eventTimeZoneOffset", f"{offset!r} must be ±hh:mm"))
    elif (minutes := _offset_minutes(offset_match)) is None or minutes > _MAX_OFFSET_MINUTES:
        errors.append(("$.eventTimeZoneOffset", f"{offset!r} is not within ±14:00"))
    if errors:
        path, reason = errors[0]
        raise EpcisValidationError(path=path, reason=reason, errors=errors)
