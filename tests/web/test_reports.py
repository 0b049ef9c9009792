"""Problem reports: the form on the scan page (refusals re-render it with the message and the
input kept; a reference number on success; a per-client limit) and the API that shows reports
to the lot's supplier and to regulators only."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from fixtures.writepath import WritePath
from lotlink.vocabulary import Role
from web.story import Story


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def send(
    wp: WritePath,
    story: Story,
    lot: str = "normal",
    *,
    photo: tuple[str, bytes, str] | None = None,
    **fields: str,
) -> Any:
    data = {"category": "quality_defect", "description": "Lumps in the powder", **fields}
    files = {"photo": photo} if photo is not None else None
    return wp.client.post(
        "/report", params={"link": story.path(lot)}, data=data, files=files
    )  # fmt: skip


def test_a_report_gets_a_reference_and_reaches_supplier_and_regulator(
    write_path: WritePath, story: Story
) -> None:
    response = send(
        write_path, story, photo=("photo.png", png(), "image/png"), contact="ana@example.org"
    )
    assert response.status_code == 200, response.text
    assert 'id="report-reference"' in response.text
    reference = response.text.split('id="report-reference">')[1].split("<")[0]
    assert reference.startswith("PR-") and len(reference) == 11

    plant, regulator = story.parties["plant"], story.parties["regulator"]
    key = story.lots["normal"]["lot_key"]
    (seen,) = write_path.client.get(
        "/api/v1/reports", params={"lot": key}, headers=plant.headers
    ).json()["reports"]
    assert seen["reference"] == reference and seen["category"] == "quality_defect"
    assert seen["description"] == "Lumps in the powder" and seen["contact"] == "ana@example.org"
    photo = write_path.client.get(seen["photo"])
    assert photo.status_code == 200 and photo.content == png()
    everything = write_path.client.get("/api/v1/reports", headers=regulator.headers).json()
    assert [r["reference"] for r in everything["reports"]] == [reference]
    # The farm supplies other lots: it sees none of this one's reports.
    farm = write_path.client.get("/api/v1/reports", headers=story.parties["farm"].headers)
    assert farm.status_code == 200 and farm.json()["reports"] == []
    carrier = write_path.client.get("/api/v1/reports", headers=story.parties["carrier"].headers)
    assert carrier.status_code == 403
    assert write_path.client.get("/api/v1/reports").status_code == 401


def test_an_empty_description_is_refused_on_the_form_with_the_input_kept(
    write_path: WritePath, story: Story
) -> None:
    response = send(write_path, story, description="   ", contact="keep me", category="damaged")
    assert response.status_code == 422
    assert 'id="report-error">Please describe the problem.' in response.text
    assert 'value="keep me"' in response.text
    assert 'value="damaged" checked' in response.text
    assert "F-NORMAL" in response.text  # the scan page itself, with its form


def test_a_photo_that_is_not_an_image_is_refused_on_the_form(
    write_path: WritePath, story: Story
) -> None:
    response = send(
        write_path, story, photo=("x.png", b"#!/bin/sh\necho not an image\n", "image/png")
    )
    assert response.status_code == 422
    assert "The photo must be a JPEG, PNG or WebP image." in response.text
    assert ">Lumps in the powder</textarea>" in response.text
    pdf = send(write_path, story, photo=("x.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"))
    assert pdf.status_code == 422


def test_an_oversized_photo_is_refused_on_the_form(write_path: WritePath, story: Story) -> None:
    limit = write_path.settings.report_photo_max_bytes
    big = png() + b"\0" * limit
    response = send(write_path, story, photo=("big.png", big, "image/png"))
    assert response.status_code == 413
    assert "The photo is larger than 5 MB." in response.text


def test_reports_are_limited_per_client(write_path: WritePath, story: Story) -> None:
    limit = write_path.settings.report_rate_limit
    for _ in range(limit):
        assert send(write_path, story).status_code == 200
    refused = send(write_path, story, description="one more")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "Too many reports from this connection" in refused.text
    assert ">one more</textarea>" in refused.text


def test_a_report_for_an_unknown_lot_or_bad_link_is_a_page(
    write_path: WritePath, story: Story
) -> None:
    unknown = write_path.client.post(
        "/report", params={"link": "/01/09521230005029/10/NOPE"}, data={"description": "x"}
    )
    assert unknown.status_code == 404 and "text/html" in unknown.headers["content-type"]
    bad = write_path.client.post("/report", params={"link": "/01/123"}, data={"description": "x"})
    assert bad.status_code == 400 and "text/html" in bad.headers["content-type"]


def test_only_suppliers_and_regulators_read_reports(write_path: WritePath, story: Story) -> None:
    inspector = write_path.actor(Role.INSPECTOR)
    response = write_path.client.get("/api/v1/reports", headers=inspector.headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
