"""A plain checkpoint form, validated, as the `CheckpointSpec` that `lotlink.epcis.build` turns
into EPCIS. Pure (no database, no chain): `lotlink submit` builds the same event on the client
from the same form, signs it, and the server rebuilds it byte for byte."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from lotlink.epcis.build import (
    BIZ_STEPS,
    DISPOSITIONS,
    CheckpointSpec,
    LotRef,
    Party,
    QuantityLine,
    build_event,
    digest_of,
    parse_event_time,
)
from lotlink.errors import InvalidGs1KeyError, InvalidInputError
from lotlink.gs1.keys import normalize_gln
from lotlink.schemas.checkpoints import CheckpointCreate
from lotlink.services.documents import normalize_sha256
from lotlink.vocabulary import CheckpointKind


@dataclass(frozen=True, slots=True)
class PlainCheckpoint:
    """A validated form: its spec (without `previous`), and every lot it touches with the
    request field that names it (the primary lot first)."""

    spec: CheckpointSpec
    lots: list[tuple[LotRef, str]]

    def event(self, previous: Sequence[bytes]) -> dict[str, object]:
        return build_event(replace(self.spec, previous=tuple(previous)))

    def digest(self, previous: Sequence[bytes]) -> bytes:
        return digest_of(self.event(previous))


def _gln(value: str, *, field: str) -> str:
    try:
        return normalize_gln(value)
    except InvalidGs1KeyError as error:
        raise InvalidInputError(field=field, reason=str(error)) from None


def _lot(gtin: str, lot_code: str, *, field: str) -> LotRef:
    try:
        return LotRef.of(gtin, lot_code)
    except InvalidGs1KeyError as error:
        raise InvalidInputError(field=field, reason=str(error)) from None


def plain_checkpoint(
    form: CheckpointCreate, *, lot: LotRef, default_gln: str | None
) -> PlainCheckpoint:
    """Validates `form` for `lot` and fills its defaults (bizStep, disposition, location)."""
    kind = form.kind
    event_time = parse_event_time(form.time, field="time")
    biz_step = form.biz_step or BIZ_STEPS[kind][0]
    disposition = form.disposition
    if form.result is not None:
        if kind is not CheckpointKind.INSPECTED:
            raise InvalidInputError(field="result", reason="only an inspection has a result")
        if disposition is not None and disposition != form.result:
            raise InvalidInputError(
                field="disposition", reason=f"contradicts the inspection result {form.result!r}"
            )
        disposition = form.result
    disposition = disposition or DISPOSITIONS[kind][0]
    location = form.location or default_gln
    if location is None:
        raise InvalidInputError(field="location", reason="required: the actor has no GLN")
    location = _gln(location, field="location")
    if (form.quantity is None) != (form.unit is None):
        raise InvalidInputError(field="unit", reason="quantity and unit go together")
    if form.inputs and kind is not CheckpointKind.TRANSFORMED:
        raise InvalidInputError(field="inputs", reason="only a transformation has inputs")
    if kind is CheckpointKind.TRANSFORMED and not form.inputs:
        raise InvalidInputError(field="inputs", reason="a transformation needs its input lots")
    if kind is CheckpointKind.SHIPPED and not form.destinations:
        raise InvalidInputError(field="destinations", reason="a shipment needs a destination")
    lots: list[tuple[LotRef, str]] = [(lot, "lot")]
    inputs = []
    for i, item in enumerate(form.inputs):
        ref = _lot(item.gtin, item.lot_code, field=f"inputs[{i}]")
        if (item.quantity is None) != (item.unit is None):
            raise InvalidInputError(
                field=f"inputs[{i}].unit", reason="quantity and unit go together"
            )
        if ref == lot or any(ref == known for known, _ in lots):
            raise InvalidInputError(field=f"inputs[{i}]", reason="names a lot twice")
        lots.append((ref, f"inputs[{i}]"))
        inputs.append(QuantityLine(ref, item.quantity, item.unit))
    spec = CheckpointSpec(
        kind=kind,
        biz_step=biz_step,
        disposition=disposition,
        event_time=event_time,
        location_gln=location,
        lots=[QuantityLine(lot, form.quantity, form.unit)],
        inputs=inputs,
        sources=[
            Party(p.type, _gln(p.gln, field=f"sources[{i}].gln"))
            for i, p in enumerate(form.sources)
        ],
        destinations=[
            Party(p.type, _gln(p.gln, field=f"destinations[{i}].gln"))
            for i, p in enumerate(form.destinations)
        ],
        documents=[
            normalize_sha256(d, field=f"documents[{i}]") for i, d in enumerate(form.documents)
        ],
    )
    built = PlainCheckpoint(spec=spec, lots=lots)
    built.event(())  # bizStep and disposition are checked against the kind here
    return built
