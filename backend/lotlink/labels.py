"""QR codes of GS1 Digital Links, and printable sheets of pack labels.

A label is the QR code of a pack's Digital Link on the service's public base URL, with the GTIN,
lot and serial printed under it in text, so a person can read what a phone would scan. Sheets
are A4 with a grid of 38 by 52 mm labels, 4 across and 5 down, as SVG or PDF.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

import qrcode
import qrcode.constants
from fpdf import FPDF
from qrcode.image.svg import SvgPathImage

from lotlink.gs1.digital_link import DigitalLink

# Medium error correction (~15 % of the symbol may be damaged): packs get scuffed and creased.
_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M

# Sheet geometry, millimetres.
PAGE_WIDTH, PAGE_HEIGHT = 210.0, 297.0
LABEL_WIDTH, LABEL_HEIGHT = 38.0, 52.0
COLUMNS, ROWS = 4, 5
QR_SIZE = 32.0
_MARGIN_X = (PAGE_WIDTH - COLUMNS * LABEL_WIDTH) / (COLUMNS + 1)
_MARGIN_Y = (PAGE_HEIGHT - ROWS * LABEL_HEIGHT) / (ROWS + 1)


def _qr(data: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=_ERROR_CORRECTION, border=4)
    code.add_data(data)
    code.make(fit=True)
    return code


def qr_png(data: str, *, box_size: int = 10) -> bytes:
    """A PNG of the QR code of `data` (black on white, 4-module quiet zone)."""
    code = _qr(data)
    code.box_size = box_size
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(data: str) -> bytes:
    """An SVG of the QR code of `data`: one path, scalable to any print size."""
    buffer = io.BytesIO()
    _qr(data).make_image(image_factory=SvgPathImage).save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class Label:
    """One pack label: the URI its QR code holds and the text lines printed under it."""

    uri: str
    lines: tuple[str, ...]


def labels_for(link: DigitalLink, *, base_url: str, serials: Sequence[str] = ()) -> list[Label]:
    """One label for the lot, or one per serial when `serials` are given."""
    targets = (
        [link]
        if not serials
        else [DigitalLink(gtin=link.gtin, lot=link.lot, serial=serial) for serial in serials]
    )
    labels = []
    for target in targets:
        lines = [f"(01) {target.gtin}"]
        if target.lot is not None:
            lines.append(f"(10) {target.lot}")
        if target.serial is not None:
            lines.append(f"(21) {target.serial}")
        labels.append(Label(uri=target.uri(base_url), lines=tuple(lines)))
    return labels


def _positions(count: int) -> Iterable[tuple[int, float, float]]:
    """(page, x, y) of each label's top-left corner, in millimetres."""
    per_page = COLUMNS * ROWS
    for index in range(count):
        page, slot = divmod(index, per_page)
        row, column = divmod(slot, COLUMNS)
        x = _MARGIN_X + column * (LABEL_WIDTH + _MARGIN_X)
        y = _MARGIN_Y + row * (LABEL_HEIGHT + _MARGIN_Y)
        yield page, x, y


def label_sheet_pdf(labels: Sequence[Label]) -> bytes:
    """A4 pages of labels as PDF, QR codes embedded as lossless PNG."""
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=7)
    current_page = -1
    for label, (page, x, y) in zip(labels, _positions(len(labels)), strict=True):
        if page != current_page:
            pdf.add_page()
            current_page = page
        pdf.image(
            io.BytesIO(qr_png(label.uri, box_size=8)),
            x=x + (LABEL_WIDTH - QR_SIZE) / 2,
            y=y,
            w=QR_SIZE,
            h=QR_SIZE,
        )
        for number, line in enumerate(label.lines):
            pdf.set_xy(x, y + QR_SIZE + 1 + number * 3.5)
            pdf.cell(LABEL_WIDTH, 3.5, line, align="C")
    return bytes(pdf.output())


def label_sheet_svg(labels: Sequence[Label]) -> list[bytes]:
    """A4 pages of labels as SVG documents, one per page, QR codes as vector paths."""
    ET.register_namespace("", "http://www.w3.org/2000/svg")
    pages: list[ET.Element] = []
    for label, (page, x, y) in zip(labels, _positions(len(labels)), strict=True):
        if page == len(pages):
            pages.append(
                ET.Element(
                    "svg",
                    {
                        "xmlns": "http://www.w3.org/2000/svg",
                        "version": "1.1",
                        "width": f"{PAGE_WIDTH}mm",
                        "height": f"{PAGE_HEIGHT}mm",
                        "viewBox": f"0 0 {PAGE_WIDTH} {PAGE_HEIGHT}",
                    },
                )
            )
        code = ET.fromstring(qr_svg(label.uri))
        view_box = code.get("viewBox") or f"0 0 {code.get('width')} {code.get('height')}"
        nested = ET.SubElement(
            pages[page],
            "svg",
            {
                "x": f"{x + (LABEL_WIDTH - QR_SIZE) / 2:.2f}",
                "y": f"{y:.2f}",
                "width": f"{QR_SIZE}",
                "height": f"{QR_SIZE}",
                "viewBox": view_box,
            },
        )
        nested.extend(list(code))
        for number, line in enumerate(label.lines):
            text = ET.SubElement(
                pages[page],
                "text",
                {
                    "x": f"{x + LABEL_WIDTH / 2:.2f}",
                    "y": f"{y + QR_SIZE + 3.5 + number * 3.5:.2f}",
                    "font-family": "Helvetica, Arial, sans-serif",
                    "font-size": "2.6",
                    "text-anchor": "middle",
                },
            )
            text.text = line
    return [ET.tostring(page, encoding="utf-8", xml_declaration=True) for page in pages]
