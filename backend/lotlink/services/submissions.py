"""The two doors to one record: a plain checkpoint form, and EPCIS 2.0 capture documents.

Both end in `accept_event`; what differs is how the event is made. A plain form is built by the
service (`lotlink.epcis.build`); a captured event is validated against GS1's schema and
Lotlink's rules and kept as sent, except that ``lotlink:previous`` is filled in when the client
left it out (only possible when the service signs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from lotlink.db.bulk import existing
from lotlink.db.engine import begin_read_only
from lotlink.epcis.build import (
    CONTEXT,
    DOCUMENTS,
    PREVIOUS,
    LotRef,
    build_event,
    kind_of_event,
    previous_ids,
)
from lotlink.epcis.event_hash import document_events
from lotlink.epcis.validation import check_lotlink_event_rules, validate_document
from lotlink.errors import EpcisValidationError, InvalidInputError
from lotlink.models import Actor, Lot
from lotlink.schemas.checkpoints import CheckpointCreate
from lotlink.services.chain_access import ChainAccess
from lotlink.services.checkpoint_forms import plain_checkpoint
from lotlink.services.checkpoint_rows import touched_lots
from lotlink.services.checkpoints import (
    Accepted,
    EventDraft,
    PreparedEvents,
    Signer,
    TouchedLot,
    accept_event,
    accept_prepared,
    check_kind_role,
    documents_of,
    prepare_events,
    to_milli,
)
from lotlink.services.documents import normalize_sha256, require_documents, require_uploaded
from lotlink.services.idempotency import KeyedRequest, accept_keyed, request_fingerprint
from lotlink.services.lots import lot_key_hex

#: Events per capture document, at most (all in one transaction).
MAX_CAPTURE_EVENTS = 1000
_NI = "ni:///sha-256;"


def parse_digest(value: str, *, field: str) -> bytes:
    """A digest given as 0x-hex or as an event hash ID (``ni:///sha-256;<hex>?ver=CBV2.0``)."""
    text = value.strip().lower()
    if text.startswith(_NI):
        text = text.removeprefix(_NI).split("?")[0]
    text = text.removeprefix("0x")
    try:
        digest = bytes.fromhex(text)
    except ValueError:
        digest = b""
    if len(digest) != 32:
        raise InvalidInputError(field=field, reason=f"{value!r} is not a 32-byte digest")
    return digest


def parse_signature(value: str | None, *, field: str) -> bytes | None:
    if value is None:
        return None
    try:
        signature = bytes.fromhex(value.strip().removeprefix("0x"))
    except ValueError:
        signature = b""
    if len(signature) != 65:
        raise InvalidInputError(field=field, reason="must be a 65-byte hex signature")
    return signature


def submit_checkpoint(
    session: Session,
    chain: ChainAccess,
    actor: Actor,
    lot: Lot,
    form: CheckpointCreate,
    *,
    idempotency_key: str | None = None,
) -> Accepted:
    """Accepts one plain checkpoint of `lot`; with an `idempotency_key` (already parsed), a
    retry of the same request is answered with the checkpoint it produced
    (`lotlink.services.idempotency`)."""
    check_kind_role(actor, form.kind)
    signer = Signer.of(actor)
    plain = plain_checkpoint(form, lot=LotRef(lot.gtin, lot.lot_code), default_gln=actor.gln)
    documents = require_documents(session, list(plain.spec.documents), field="documents")
    lines = {line.lot: line for line in [*plain.spec.lots, *plain.spec.inputs]}
    touched = []
    for ref, field in plain.lots:
        line = lines[ref]
        touched.append(
            TouchedLot(
                lot_key=lot_key_hex(ref),
                field=field,
                quantity_milli=None if line.quantity is None else to_milli(line.quantity),
                unit=line.unit,
            )
        )
    stated = (
        None
        if form.previous is None
        else [parse_digest(d, field=f"previous[{i}]") for i, d in enumerate(form.previous)]
    )
    draft = EventDraft(
        kind=form.kind,
        lots=touched,
        make_event=plain.event,
        stated_previous=stated,
        signature=parse_signature(form.signature, field="signature"),
        documents=documents,
        context=CONTEXT,
    )
    if idempotency_key is None:
        return accept_event(session, chain, signer, draft)
    request = KeyedRequest(
        actor_address=signer.address.lower(),
        key=idempotency_key,
        fingerprint=request_fingerprint(lot.lot_key, form),
    )
    return accept_keyed(session, chain, signer, draft, request, settings=chain.settings)


def _captured_draft(
    event: Mapping[str, Any], *, index: int, context: Any, signature: bytes | None
) -> EventDraft:
    """The draft of a captured event: checked on its own, without the database (the lots and
    documents it names are looked up for the whole document at once)."""
    prefix = f"$.epcisBody.eventList[{index}]"
    try:
        check_lotlink_event_rules(event)
    except EpcisValidationError as error:
        raise _located(error, prefix) from None
    try:
        kind = kind_of_event(event)
        touched = touched_lots(event, prefix=prefix)  # the signed lot first
        if not touched:
            raise InvalidInputError(
                field=prefix, reason="names no lot (…/01/<GTIN>/10/<lot> or an LGTIN URN)"
            )
        stated_raw = event.get(PREVIOUS)
        stated: list[bytes] | None = None
        if stated_raw is not None:
            if not isinstance(stated_raw, list):
                raise InvalidInputError(field=f"{prefix}.{PREVIOUS}", reason="must be a list")
            stated = [
                parse_digest(str(d), field=f"{prefix}.{PREVIOUS}[{i}]")
                for i, d in enumerate(stated_raw)
            ]
        field = f"{prefix}.{DOCUMENTS}"
        documents = [
            normalize_sha256(sha, field=f"{field}[{i}]")
            for i, sha in enumerate(documents_of(dict(event)))
        ]
    except InvalidInputError as error:
        if error.field.startswith("$.") and not error.field.startswith(prefix):
            raise InvalidInputError(field=prefix + error.field[1:], reason=error.reason) from None
        raise

    def make_event(previous: Sequence[bytes]) -> dict[str, Any]:
        if stated is not None:
            return dict(event)
        return {**event, PREVIOUS: previous_ids(previous)}

    return EventDraft(
        kind=kind,
        lots=touched,
        make_event=make_event,
        stated_previous=stated,
        signature=signature,
        documents=documents,
        context=context,
    )


def _located(error: EpcisValidationError, prefix: str) -> EpcisValidationError:
    errors = [(prefix + path[1:], reason) for path, reason in error.errors]
    return EpcisValidationError(path=prefix + error.path[1:], reason=error.reason, errors=errors)


def capture_document(
    session: Session,
    chain: ChainAccess,
    actor: Actor,
    document: Any,
    *,
    signatures: Sequence[bytes] | None,
) -> list[Accepted]:
    """Accepts every event of an EPCIS 2.0 document, in order, all or none (one transaction).

    `signatures`, when given, holds one per event (the client's; required for self-custody).
    """
    prepared = prepare_capture(session, chain, actor, document, signatures=signatures)
    return accept_prepared(session, chain, prepared)


def prepare_capture(
    session: Session,
    chain: ChainAccess,
    actor: Actor,
    document: Any,
    *,
    signatures: Sequence[bytes] | None,
) -> PreparedEvents:
    """Everything a capture checks and computes before it takes the lots' locks: the document
    validated, its events' lots and documents found registered (read-only), each event hashed
    and its signature checked. The events are then stored by `accept_prepared`, or with other
    captures' by the process's `lotlink.services.capture_writer.CaptureWriter`."""
    if not isinstance(document, dict):
        raise EpcisValidationError(path="$", reason="must be a JSON object", errors=[])
    validate_document(document)
    if document.get("type") != "EPCISDocument":
        raise InvalidInputError(field="$.type", reason="capture takes an EPCISDocument")
    events = document_events(document)
    if not events:
        raise InvalidInputError(field="$.epcisBody.eventList", reason="holds no event")
    if len(events) > MAX_CAPTURE_EVENTS:
        raise InvalidInputError(
            field="$.epcisBody.eventList", reason=f"holds more than {MAX_CAPTURE_EVENTS} events"
        )
    if signatures is not None and len(signatures) != len(events):
        raise InvalidInputError(
            field="Lotlink-Signature",
            reason=f"{len(signatures)} signatures for {len(events)} events",
        )
    context = document.get("@context")
    drafts = []
    for i, event in enumerate(events):
        draft = _captured_draft(
            event, index=i, context=context, signature=None if signatures is None else signatures[i]
        )
        check_kind_role(actor, draft.kind)
        drafts.append(draft)
    # The checks that read run in a read-only transaction: on SQLite it takes no write lock,
    # which is taken only once everything that can be checked first is checked.
    begin_read_only(session)
    _require_registered(session, [lot for draft in drafts for lot in draft.lots])
    require_uploaded(
        session,
        [(f"$.epcisBody.eventList[{i}].{DOCUMENTS}", d.documents) for i, d in enumerate(drafts)],
    )
    session.commit()
    return prepare_events(chain, Signer.of(actor), drafts)


def _require_registered(session: Session, lots: Sequence[TouchedLot]) -> None:
    """InvalidInputError naming the first of `lots` that is not registered."""
    registered = existing(session.connection(), Lot.lot_key, [lot.lot_key for lot in lots])
    for lot in lots:
        if lot.lot_key not in registered:
            raise InvalidInputError(field=lot.field, reason=f"no lot {lot.lot_key} is registered")


__all__ = ["build_event", "capture_document", "prepare_capture", "submit_checkpoint"]
