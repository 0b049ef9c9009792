"""QR codes decode back to the Digital Link; sheets hold one readable label per pack."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from PIL import Image

from lotlink.cli.labels import parse_lot_argument, parse_serials
from lotlink.errors import InvalidDigitalLinkError
from lotlink.gs1.digital_link import DigitalLink
from lotlink.labels import (
    COLUMNS,
    ROWS,
    label_sheet_pdf,
    label_sheet_svg,
    labels_for,
    qr_png,
    qr_svg,
)

LINK = DigitalLink(gtin="09521234543213", lot="IF-2026/11")


def pdf_page_image(pdf: bytes) -> Image.Image:
    """The first page of `pdf` rendered at 200 dpi by poppler's pdftoppm, as a print would be."""
    rendered = subprocess.run(
        ["pdftoppm", "-png", "-r", "200", "-f", "1", "-l", "1", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout
    return Image.open(io.BytesIO(rendered))


def test_labels_carry_the_canonical_link_and_readable_text() -> None:
    (lot_label,) = labels_for(LINK, base_url="https://scan.example/")
    assert lot_label.uri == "https://scan.example/01/09521234543213/10/IF-2026%2F11"
    assert lot_label.lines == ("(01) 09521234543213", "(10) IF-2026/11")
    serial_labels = labels_for(LINK, base_url="https://scan.example", serials=["007", "008"])
    assert [label.uri.rsplit("/", 1)[1] for label in serial_labels] == ["007", "008"]
    assert serial_labels[1].lines[-1] == "(21) 008"


def test_qr_png_is_a_square_black_and_white_image() -> None:
    image = Image.open(io.BytesIO(qr_png("https://scan.example/01/09521234543213/10/L1")))
    assert (
        image.format == "PNG" and image.size[0] == image.size[1] >= 210
    )  # (21 + 8) modules x 10 px
    assert set(image.convert("L").get_flattened_data()) <= {0, 255}


def test_qr_svg_is_one_scalable_path() -> None:
    svg = qr_svg("https://scan.example/01/09521234543213").decode()
    assert svg.count("<path") == 1 and "viewBox" in svg


def test_a_sheet_spans_pages_as_needed() -> None:
    per_page = COLUMNS * ROWS
    many = labels_for(
        LINK, base_url="https://scan.example", serials=[str(i) for i in range(per_page + 3)]
    )
    pages = label_sheet_svg(many)
    assert len(pages) == 2
    assert pages[0].decode().count("(21) ") == per_page and pages[1].decode().count("(21) ") == 3
    pdf = label_sheet_pdf(many)
    assert pdf.startswith(b"%PDF-") and len(re.findall(rb"/Type\s*/Page\b", pdf)) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09521234543213/L1", DigitalLink(gtin="09521234543213", lot="L1")),
        (
            "https://x.example/01/09521234543213/10/L%2F1",
            DigitalLink(gtin="09521234543213", lot="L/1"),
        ),
        ("/01/9521234543213/10/L1", DigitalLink(gtin="09521234543213", lot="L1")),
    ],
)
def test_a_lot_is_named_as_gtin_and_lot_or_as_its_link(text: str, expected: DigitalLink) -> None:
    assert parse_lot_argument(text) == expected


def test_a_lot_argument_needs_a_lot() -> None:
    with pytest.raises(InvalidDigitalLinkError, match="labels need a lot"):
        parse_lot_argument("https://x.example/01/09521234543213")


def test_serials_as_ranges_or_lists() -> None:
    assert parse_serials("0008-0011") == ["0008", "0009", "0010", "0011"]
    assert parse_serials("8-11") == ["8", "9", "10", "11"]
    assert parse_serials("A1, B2") == ["A1", "B2"]
    with pytest.raises(InvalidDigitalLinkError, match="runs backwards"):
        parse_serials("9-1")
    with pytest.raises(InvalidDigitalLinkError, match="CSET 82"):
        parse_serials("A#1")
