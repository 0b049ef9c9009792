"""`lotlink bench validation`: µs per event of EPCIS schema validation, before and after issue #3.

Before, python-jsonschema judged every capture document (about 1.2 ms per event, the largest
cost of a capture); now jsonschema-rs decides and python-jsonschema only explains a rejection
(lotlink/epcis/validation.py). All three are timed on the same generated capture document, and
a document with one bad ``eventTime`` shows what a rejection costs.
"""

from __future__ import annotations

import copy
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lotlink.bench.event_hash import epcis_document, lotlink_style_events
from lotlink.epcis.validation import _document_validators, validate_document
from lotlink.errors import EpcisValidationError


@dataclass(frozen=True)
class ValidationFigures:
    """µs per event of each way to validate one ``events``-event capture document."""

    events: int
    python_jsonschema_us: float
    jsonschema_rs_us: float
    validate_document_us: float
    rejected_us: float
    rejected_path: str


def _us_per_event(call: Callable[[], object], events: int) -> float:
    # timeit's own recipe: enough loops for 0.2 s, the best of five runs (the least disturbed).
    timer = timeit.Timer(call)
    loops, _ = timer.autorange()
    return min(timer.repeat(repeat=5, number=loops)) / loops / events * 1e6


def _rejection(document: dict[str, Any]) -> Callable[[], str]:
    def reject() -> str:
        try:
            validate_document(document)
        except EpcisValidationError as error:
            return error.path
        raise AssertionError("the bad document was accepted")

    return reject


def measure_validation(events: int) -> ValidationFigures:
    """Time python-jsonschema, jsonschema-rs and validate_document on one capture document."""
    document = epcis_document(lotlink_style_events(events))
    validators = _document_validators()
    assert validators.fast.is_valid(document) and validators.explaining.is_valid(document)
    bad = copy.deepcopy(document)
    bad["epcisBody"]["eventList"][-1]["eventTime"] = "2025-02-30T09:30:00.000+01:00"
    reject = _rejection(bad)
    return ValidationFigures(
        events=events,
        python_jsonschema_us=_us_per_event(
            lambda: list(validators.explaining.iter_errors(document)), events
        ),
        jsonschema_rs_us=_us_per_event(lambda: validators.fast.is_valid(document), events),
        validate_document_us=_us_per_event(lambda: validate_document(document), events),
        rejected_us=_us_per_event(reject, events),
        rejected_path=reject(),
    )
