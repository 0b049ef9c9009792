"""The Digital Link resolver: pages, linksets, redirects, QR codes, and every bad link a 400
page with the reason (never a 500); unknown products a 404 page."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from fixtures.writepath import WritePath, gtin
from lotlink.gs1.digital_link import DigitalLink
from web.story import FORMULA, MILK, Story

BASE = "http://lotlink.test"


def test_a_browser_gets_the_scan_page_with_its_links(write_path: WritePath, story: Story) -> None:
    response = write_path.client.get(story.path("normal"), headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Infant formula 800 g" in response.text and "F-NORMAL" in response.text
    assert 'rel="https://ref.gs1.org/voc/recallStatus"' in response.headers["link"]
    assert f'<link rel="canonical" href="{BASE}{story.path("normal")}">' in response.text


def test_a_gtin_alone_is_the_product_page_listing_its_lots(
    write_path: WritePath, story: Story
) -> None:
    response = write_path.client.get(f"/01/{FORMULA}")
    assert response.status_code == 200
    for code in ("F-NORMAL", "F-RECALLED", "F-TAMPERED"):
        assert f'href="/01/{FORMULA}/10/{code}"' in response.text
    # GTIN-13 input is padded to GTIN-14.
    assert write_path.client.get(f"/01/{FORMULA[1:]}").status_code == 200


def test_linkset_for_accept_or_link_type_all(write_path: WritePath, story: Story) -> None:
    lot = story.lots["normal"]
    for url, headers in (
        (story.path("normal"), {"Accept": "application/linkset+json"}),
        (story.path("normal") + "?linkType=all", {}),
    ):
        response = write_path.client.get(url, headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/linkset+json"
        assert response.headers["access-control-allow-origin"] == "*"
        assert 'rel="linkset"' in response.headers["link"]
        (entry,) = response.json()["linkset"]
        assert entry["anchor"] == BASE + story.path("normal")
        recall = entry["https://ref.gs1.org/voc/recallStatus"][0]
        assert recall["href"] == f"{BASE}/api/v1/lots/{lot['lot_key']}/recall-status"
        assert entry["https://ref.gs1.org/voc/pip"][0]["type"] == "text/html"


@pytest.mark.parametrize(
    ("link_type", "suffix"),
    [
        ("gs1:recallStatus", "recall-status"),
        ("gs1:traceability", "journey"),
        ("gs1:certificationInfo", "certificates"),
    ],
)
def test_a_link_type_is_a_307_to_its_json(
    write_path: WritePath, story: Story, link_type: str, suffix: str
) -> None:
    lot = story.lots["recalled"]
    response = write_path.client.get(
        story.path("recalled"), params={"linkType": link_type}, follow_redirects=False
    )
    assert response.status_code == 307
    target = f"{BASE}/api/v1/lots/{lot['lot_key']}/{suffix}"
    assert response.headers["location"] == target
    followed = write_path.client.get(target.removeprefix(BASE))
    assert followed.status_code == 200 and followed.headers["access-control-allow-origin"] == "*"
    assert followed.json()["lot"]["lot_code"] == "F-RECALLED"


def test_pip_redirects_to_the_canonical_scan_page(write_path: WritePath, story: Story) -> None:
    response = write_path.client.get(
        f"/01/{FORMULA[1:]}/10/F-NORMAL?linkType=gs1:pip", follow_redirects=False
    )
    assert response.status_code == 307
    assert response.headers["location"] == f"{BASE}/01/{FORMULA}/10/F-NORMAL"


def test_an_unknown_link_type_is_a_404_page_listing_the_available_ones(
    write_path: WritePath, story: Story
) -> None:
    response = write_path.client.get(story.path("normal") + "?linkType=gs1:smartLabel")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    for link_type in ("gs1:pip", "gs1:recallStatus", "gs1:traceability", "gs1:certificationInfo"):
        assert f"<code>{link_type}</code>" in response.text


def test_recall_status_includes_inherited_recalls(write_path: WritePath, story: Story) -> None:
    client = write_path.client
    recalled = client.get(f"/api/v1/lots/{story.lots['recalled']['lot_key']}/recall-status")
    body = recalled.json()
    assert body["recalled"] is True and body["most_severe_class"] == 1
    (recall,) = body["recalls"]
    assert recall["inherited"] is True and recall["recalled_lot"] == story.lots["milk_b"]["lot_key"]
    assert recall["reason"].startswith("Salmonella")
    normal = client.get(f"/api/v1/lots/{story.lots['normal']['lot_key']}/recall-status").json()
    assert normal["recalled"] is False and normal["recalls"] == []
    missing = client.get(f"/api/v1/lots/0x{'00' * 32}/recall-status")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_journey_and_certificates_json(write_path: WritePath, story: Story) -> None:
    key = story.lots["normal"]["lot_key"]
    journey = write_path.client.get(f"/api/v1/lots/{key}/journey").json()
    assert [s["kind"] for s in journey["steps"]] == [
        "transformed",
        "inspected",
        "shipped",
        "received",
    ]
    assert journey["sources"][0]["lot_code"] == "MILK-A1"
    (certificate,) = write_path.client.get(f"/api/v1/lots/{key}/certificates").json()[
        "certificates"
    ]
    assert certificate["validity"] == "valid" and certificate["document_matches_anchor"] is True


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_qr_codes_encode_the_canonical_link(write_path: WritePath, story: Story, kind: str) -> None:
    response = write_path.client.get(f"/01/{FORMULA[1:]}/10/F-NORMAL/qr.{kind}")
    assert response.status_code == 200
    expected = f"{BASE}/01/{FORMULA}/10/F-NORMAL"
    if kind == "png":
        assert response.headers["content-type"] == "image/png"
        (result,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.content)))
        assert result.text == expected
    else:
        assert response.headers["content-type"] == "image/svg+xml"
        assert response.content.lstrip().startswith(b"<?xml") or b"<svg" in response.content[:200]


def test_a_value_named_qr_png_is_a_lot_not_a_file(write_path: WritePath, story: Story) -> None:
    lot = write_path.lot(story.parties["farm"], MILK, "qr.png")
    response = write_path.client.get(f"/01/{MILK}/10/qr.png")
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert lot["lot_code"] in response.text


def test_an_encoded_slash_stays_inside_the_lot(write_path: WritePath, story: Story) -> None:
    write_path.lot(story.parties["farm"], MILK, "A/B")
    path = DigitalLink(gtin=MILK, lot="A/B").path
    assert path.endswith("/10/A%2FB")
    response = write_path.client.get(path)
    assert response.status_code == 200 and "A/B" in response.text
    qr = write_path.client.get(path + "/qr.png")
    (result,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.content)))
    assert result.text == f"{BASE}/01/{MILK}/10/A%2FB"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (f"/01/{FORMULA[:-1]}{(int(FORMULA[-1]) + 1) % 10}/10/X", "check digit"),
        (f"/01/{FORMULA}/21/S1/10/X", "must come before"),
        (f"/01/{FORMULA}/10/" + "A" * 21, "longer than 20"),
        (f"/01/{FORMULA}/10/%C3%A9t%C3%A9", "CSET 82"),
        (f"/01/{FORMULA}/10/%2E%2E", "path traversal"),
        (f"/01/{FORMULA}/10/%ZZ", "malformed percent"),
        (f"/01/{FORMULA}/10", "needs a value"),
        (f"/01/{FORMULA}/99/X", "cannot qualify"),
        (f"/01/{FORMULA}/10/A/10/B", "appears twice"),
        ("/01/12345/10/X", "GTIN"),
        ("/01/abc", "not all digits"),
        ("/01/" + "9" * 600, "longer than 512"),
        (f"/01/{FORMULA}/10/X?17=991399", "expiration date"),
    ],
)
def test_bad_links_are_a_400_page_with_the_reason(
    write_path: WritePath, path: str, reason: str
) -> None:
    response = write_path.client.get(path)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert reason in response.text
    assert "not a valid product link" in response.text


def test_raw_traversal_is_read_from_the_raw_path(write_path: WritePath) -> None:
    """httpx would normalise ``..`` away; an ASGI request with the raw bytes keeps it."""
    import asyncio
    import threading

    app = write_path.client.app
    sent: list[dict[str, object]] = []

    async def call() -> None:
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": f"/01/{FORMULA}/10/x/../../../etc/passwd",
            "raw_path": f"/01/{FORMULA}/10/x/../../../etc/passwd".encode(), "query_string": b"",
            "headers": [(b"host", b"lotlink.test")], "client": ("127.0.0.1", 1), "server": None,
            "root_path": "", "state": {},
        }  # fmt: skip

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        await app(scope, receive, send)  # type: ignore[operator]

    # A thread of its own: Playwright's sync API may hold this thread's event loop.
    runner = threading.Thread(target=lambda: asyncio.run(call()))
    runner.start()
    runner.join()
    assert sent[0]["status"] == 400


def test_unknown_products_and_lots_are_a_404_page(write_path: WritePath, story: Story) -> None:
    for path in (f"/01/{gtin(999)}", f"/01/{FORMULA}/10/NOPE"):
        response = write_path.client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "is not known here" in response.text


def test_head_and_preflight(write_path: WritePath, story: Story) -> None:
    head = write_path.client.head(story.path("normal"))
    assert head.status_code == 200 and head.content == b""
    preflight = write_path.client.options(story.path("normal"))
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"


def test_resolver_description(write_path: WritePath) -> None:
    response = write_path.client.get("/.well-known/gs1resolver")
    assert response.status_code == 200
    body = response.json()
    assert body["resolverRoot"] == BASE and "gs1:recallStatus" in body["supportedLinkTypes"]
