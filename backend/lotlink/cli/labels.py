"""`lotlink labels`: printable sheets of QR labels for a registered lot or its serials."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import typer
from sqlalchemy import select

from lotlink.config import get_settings
from lotlink.db.engine import get_session_factory
from lotlink.errors import InvalidDigitalLinkError, UnknownLotError
from lotlink.gs1.digital_link import DigitalLink, parse_digital_link
from lotlink.labels import label_sheet_pdf, label_sheet_svg, labels_for
from lotlink.models import Lot

_RANGE = re.compile(r"^(\d+)-(\d+)$")
MAX_LABELS = 10_000


def parse_link_argument(text: str) -> DigitalLink:
    """A product named as a Digital Link URI or path (…/01/GTIN[/10/LOT]) or as GTIN/LOT."""
    path = urlsplit(text).path if "://" in text else text
    if "/01/" not in f"/{path.lstrip('/')}":
        gtin, _, lot_code = text.partition("/")
        path = f"/01/{gtin}/10/{lot_code}"
    return parse_digital_link(path)


def parse_lot_argument(text: str) -> DigitalLink:
    """A lot named as a Digital Link URI or path (…/01/GTIN/10/LOT) or as GTIN/LOT."""
    link = parse_link_argument(text)
    if link.lot is None:
        raise InvalidDigitalLinkError(reason="labels need a lot (AI 10) as well as the GTIN")
    return link


def parse_serials(text: str | None) -> list[str]:
    """Serials as "1-24" (zero padding kept: "0001-0024") or "A1,A2,B7"."""
    if not text:
        return []
    match = _RANGE.match(text)
    if match:
        first, last = match.groups()
        if int(last) < int(first):
            raise InvalidDigitalLinkError(reason=f"the serial range {text!r} runs backwards")
        if int(last) - int(first) + 1 > MAX_LABELS:
            raise InvalidDigitalLinkError(reason=f"at most {MAX_LABELS:,} labels at a time")
        width = len(first) if first.startswith("0") else 0
        return [str(n).zfill(width) for n in range(int(first), int(last) + 1)]
    serials = [s.strip() for s in text.split(",") if s.strip()]
    for serial in serials:  # each serial is checked as a Digital Link would check it
        parse_digital_link(f"/01/09521234543213/21/{serial}")
    return serials


def labels(
    lot: Annotated[str, typer.Argument(help="The lot: GTIN/LOT, or its Digital Link URI.")],
    serials: Annotated[
        str | None,
        typer.Option(help='One label per serial: a range "1-24" or a list "A1,A2".'),
    ] = None,
    output_format: Annotated[
        Literal["pdf", "svg"],
        typer.Option("--format", help="pdf (one file) or svg (a file per page)."),
    ] = "pdf",
    out: Annotated[
        Path | None, typer.Option(help="Where to write; default labels-GTIN-LOT.pdf")
    ] = None,
) -> None:
    """Make a printable A4 sheet of QR labels for a registered lot or its serials.

    Each QR code holds the pack's GS1 Digital Link on LOTLINK_PUBLIC_BASE_URL; GTIN, lot and
    serial are printed under it.
    """
    settings = get_settings()
    link = parse_lot_argument(lot)
    assert link.lot is not None
    serial_list = parse_serials(serials)
    with get_session_factory()() as session:
        registered = session.scalar(
            select(Lot.lot_key).where(Lot.gtin == link.gtin, Lot.lot_code == link.lot)
        )
    if registered is None:
        raise UnknownLotError(lot=f"{link.lot!r} of GTIN {link.gtin}")
    sheet = labels_for(link, base_url=settings.public_base_url, serials=serial_list)
    stem = f"labels-{link.gtin}-{re.sub(r'[^A-Za-z0-9._-]', '_', link.lot)}"
    target = out or Path(f"{stem}.{output_format}")
    if output_format == "pdf":
        target.write_bytes(label_sheet_pdf(sheet))
        written = [target]
    else:
        pages = label_sheet_svg(sheet)
        written = [
            target if len(pages) == 1 else target.with_name(f"{target.stem}-{n}{target.suffix}")
            for n in range(1, len(pages) + 1)
        ]
        for path, page in zip(written, pages, strict=True):
            path.write_bytes(page)
    typer.echo(f"{len(sheet)} label(s) for {link.uri(settings.public_base_url)}")
    for path in written:
        typer.echo(f"wrote {path}")
