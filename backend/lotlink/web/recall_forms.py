"""The recall forms of the web pages: what a person typed, checked into the API's own inputs
(`RecallCreate`, `RecallUpdate`, `RecallClose`), or a `FormError` in plain words naming the
input to fix. Nothing typed is lost: the form is shown again with it.

Lots are typed one per line, as the GTIN and the lot code (``09521234543213 LOT42``; a space,
tab, comma, semicolon or slash between them, so a spreadsheet's columns paste as they are), or
as the product link a pack's QR code holds (``https://…/01/09521234543213/10/LOT42``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotlink.errors import InvalidDigitalLinkError, InvalidGs1KeyError
from lotlink.gs1.digital_link import parse_digital_link
from lotlink.gs1.keys import normalize_gtin, validate_lot_code
from lotlink.models import Actor, Lot
from lotlink.schemas.recalls import (
    RecallClose,
    RecallCreate,
    RecalledLot,
    RecallUpdate,
    RecallWording,
)
from lotlink.vocabulary import Role

MAX_TEXT = 4000
MAX_LOTS = 256
_LINE = re.compile(r"^(?P<gtin>\d{8,14})\s*[\s,;/]\s*(?P<lot>\S+)$")


class FormError(Exception):
    """Raised when a form's input is refused; the message is for the person who typed it and
    `field` names the input to fix."""

    def __init__(self, field: str, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


@dataclass(slots=True)
class RecallInput:
    """A recall form as typed (strings, kept to show the form again)."""

    lots: str = ""
    recall_class: str = ""
    reason: str = ""
    consumer_instructions: str = ""
    trade_instructions: str = ""
    close_reason: str = ""


def _text(value: str, *, field: str, what: str, required: bool) -> str:
    text = value.strip()
    if required and not text:
        raise FormError(field, f"Please write {what}.")
    if len(text) > MAX_TEXT:
        raise FormError(field, f"The {what} is too long: at most {MAX_TEXT:,} characters.")
    return text


def _wording(form: RecallInput) -> dict[str, object]:
    if form.recall_class not in ("1", "2", "3"):
        raise FormError("recall_class", "Please choose the class of the recall: I, II or III.")
    return {
        "recall_class": int(form.recall_class),
        "reason": _text(form.reason, field="reason", what="the reason", required=True),
        "consumer_instructions": _text(
            form.consumer_instructions,
            field="consumer_instructions",
            what="instructions to consumers",
            required=False,
        ),
        "trade_instructions": _text(
            form.trade_instructions,
            field="trade_instructions",
            what="instructions to the trade",
            required=False,
        ),
    }


def _parse_line(line: str, number: int) -> tuple[str, str]:
    """(GTIN-14, lot code) of one line of the lots box."""
    where = f"Line {number} of the lots"
    try:
        if "/01/" in line:
            link = parse_digital_link(urlsplit(line).path)
            if link.lot is None:
                raise FormError("lots", f"{where}: the product link has no lot (no /10/…).")
            return link.gtin, link.lot
        found = _LINE.match(line)
        if found is None:
            raise FormError(
                "lots",
                f"{where} ({line[:60]!r}) is not a GTIN followed by a lot code, such as "
                "09521234543213 LOT42.",
            )
        return normalize_gtin(found["gtin"]), validate_lot_code(found["lot"])
    except InvalidGs1KeyError as error:
        raise FormError("lots", f"{where}: the {error.key} {error.value} {error.reason}.") from None
    except InvalidDigitalLinkError as error:
        raise FormError(
            "lots", f"{where}: the product link is not valid: {error.reason}."
        ) from None


def recalled_lots(session: Session, actor: Actor, roles: frozenset[Role], text: str) -> list[Lot]:
    """The registered lots the lots box names, each once, that `actor` may recall: any for a
    regulator, only its own for a supplier."""
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise FormError("lots", "Please name at least one lot: its GTIN and lot code.")
    if len(lines) > MAX_LOTS:
        raise FormError("lots", f"A recall names at most {MAX_LOTS} lots; split it in two.")
    lots: list[Lot] = []
    for number, line in lines:
        gtin, code = _parse_line(line, number)
        lot = session.scalar(select(Lot).where(Lot.gtin == gtin, Lot.lot_code == code))
        if lot is None:
            raise FormError(
                "lots", f"Line {number} of the lots: no lot {code} of GTIN {gtin} is registered."
            )
        if lot in lots:
            raise FormError("lots", f"Line {number} of the lots names lot {code} again.")
        if Role.REGULATOR not in roles and lot.owner_address != actor.address.lower():
            raise FormError(
                "lots",
                f"Line {number} of the lots: lot {code} belongs to another supplier. A supplier "
                "may recall only its own lots; a regulator can recall any lot.",
                status=403,
            )
        lots.append(lot)
    return lots


def issue_input(
    session: Session, actor: Actor, roles: frozenset[Role], form: RecallInput
) -> RecallCreate:
    lots = recalled_lots(session, actor, roles, form.lots)
    wording = _wording(form)
    return RecallCreate.model_validate(
        {**wording, "lots": [RecalledLot(lot_key=lot.lot_key) for lot in lots]}
    )


def update_input(form: RecallInput) -> RecallUpdate:
    return RecallUpdate.model_validate(_wording(form))


def close_input(form: RecallInput) -> RecallClose:
    reason = _text(
        form.close_reason, field="close_reason", what="why the recall ends", required=True
    )
    return RecallClose(reason=reason)


def wording_of(
    recall_class: int, reason: str | None, consumer: str | None, trade: str | None
) -> RecallWording | None:
    """The wording as the chain hashed it, or None when this service does not hold it."""
    if not reason:
        return None
    return RecallWording(
        recall_class=recall_class,
        reason=reason,
        consumer_instructions=consumer or "",
        trade_instructions=trade or "",
    )
