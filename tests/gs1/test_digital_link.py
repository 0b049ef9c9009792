"""GS1 Digital Link parsing: canonical forms round-trip; every malformed or hostile path is refused
with a reason a person can read."""

from __future__ import annotations

import pytest

from lotlink.errors import InvalidDigitalLinkError
from lotlink.gs1.digital_link import DigitalLink, parse_digital_link


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/01/09521234543213", DigitalLink(gtin="09521234543213")),
        ("/01/09521234543213/10/ABC123", DigitalLink(gtin="09521234543213", lot="ABC123")),
        (
            "/01/09521234543213/10/ABC123/21/12345",
            DigitalLink(gtin="09521234543213", lot="ABC123", serial="12345"),
        ),
        (
            "/01/09521234543213/22/2A/10/L1/21/S1",
            DigitalLink(gtin="09521234543213", cpv="2A", lot="L1", serial="S1"),
        ),
        ("/01/09521234543213/21/S-9", DigitalLink(gtin="09521234543213", serial="S-9")),
        ("/01/09521234543213/10/X%2F9", DigitalLink(gtin="09521234543213", lot="X/9")),
        ("/01/09521234543213/10/A%2BB", DigitalLink(gtin="09521234543213", lot="A+B")),
        ("/01/9521234543213/10/L", DigitalLink(gtin="09521234543213", lot="L")),  # GTIN-13 padded
        ("/01/96385074/10/L", DigitalLink(gtin="00000096385074", lot="L")),  # GTIN-8 padded
        (
            "/products/01/09521234543213/10/01",
            DigitalLink(gtin="09521234543213", lot="01"),
        ),  # prefix; lot "01"
        (
            "/01/09521234543213/10/01/21/01",
            DigitalLink(gtin="09521234543213", lot="01", serial="01"),
        ),
        ("/01/09521234543213/", DigitalLink(gtin="09521234543213")),
    ],
)
def test_valid_links_parse(path: str, expected: DigitalLink) -> None:
    assert parse_digital_link(path) == expected


def test_the_canonical_path_round_trips_and_percent_encodes() -> None:
    link = DigitalLink(gtin="09521234543213", lot="X/9 +", serial="ÄB")
    assert link.path == "/01/09521234543213/10/X%2F9%20%2B/21/%C3%84B"
    assert (
        link.uri("https://scan.example/")
        == "https://scan.example/01/09521234543213/10/X%2F9%20%2B/21/%C3%84B"
    )
    plain = DigitalLink(gtin="09521234543213", lot="LOT-2026.11_A")
    assert parse_digital_link(plain.path) == plain


def test_data_attributes_come_from_the_query() -> None:
    link = parse_digital_link(
        "/01/09521234543213/10/L1", "17=261231&linkType=gs1:pip&foo=bar&15=270100"
    )
    assert link.attributes == {"17": "261231", "15": "270100"}


@pytest.mark.parametrize(
    ("path", "query", "reason"),
    [
        ("/01/09521234543214", "", "check digit"),
        ("/01/09521234543", "", "must be 8, 12, 13 or 14 digits"),
        ("/01/0952123454321X/10/L", "", "not all digits"),
        ("/01/09521234543213/21/S1/10/L1", "", "lot (AI 10) must come before the serial (AI 21)"),
        (
            "/01/09521234543213/10/L1/22/V",
            "",
            "consumer product variant (AI 22) must come before the lot",
        ),
        ("/01/09521234543213/10/L1/10/L2", "", "appears twice"),
        ("/01/09521234543213/17/261231", "", "AI '17' cannot qualify a GTIN here"),
        ("/01/09521234543213/10", "", "needs a value"),
        ("/01/09521234543213/10/" + "A" * 21, "", "longer than 20 characters"),
        ("/01/09521234543213/10/A%23B", "", "outside GS1 CSET 82"),
        ("/01/09521234543213/10/A%20B", "", "outside GS1 CSET 82"),
        ("/01/09521234543213/10/%C3%84", "", "outside GS1 CSET 82"),
        ("/01/09521234543213/10/%FF", "", "not valid UTF-8"),
        ("/01/09521234543213/10/%G1", "", "malformed percent escape"),
        ("/01/09521234543213/10/%2E%2E", "", "path traversal"),
        ("/01/09521234543213/10/..%2F..%2Fetc", "", "path traversal"),
        ("/01/09521234543213/10/", "", "needs a value"),
        ("/gtin/09521234543213", "", "no GTIN (AI 01)"),
        ("/", "", "no GTIN (AI 01)"),
        ("/01/09521234543213" + "/10/L" * 200, "", "longer than 512"),
        ("/01/09521234543213/10/L1", "17=261331", "expiration date (17='261331') is malformed"),
    ],
)
def test_malformed_and_hostile_links_are_refused_with_a_reason(
    path: str, query: str, reason: str
) -> None:
    with pytest.raises(InvalidDigitalLinkError) as caught:
        parse_digital_link(path, query)
    assert reason in str(caught.value)
    assert str(caught.value).startswith("not a valid GS1 Digital Link: ")
