"""Documents: content-addressed uploads with a size limit and type sniffing; cited by hash."""

from __future__ import annotations

import hashlib

from fixtures.writepath import WritePath, gtin
from lotlink.vocabulary import Role

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24


def test_an_upload_is_stored_once_and_served_back(write_path: WritePath) -> None:
    inspector = write_path.actor(Role.INSPECTOR)
    files = {"file": ("report.pdf", PDF, "application/octet-stream")}
    first = write_path.client.post("/api/v1/documents", files=files, headers=inspector.headers)
    assert first.status_code == 201, first.text
    digest = hashlib.sha256(PDF).hexdigest()
    assert first.json()["sha256"] == digest and first.json()["media_type"] == "application/pdf"
    again = write_path.client.post("/api/v1/documents", files=files, headers=inspector.headers)
    assert again.status_code == 200 and again.json() == first.json()
    served = write_path.client.get(f"/api/v1/documents/{digest}")
    assert served.status_code == 200 and served.content == PDF
    assert served.headers["content-type"] == "application/pdf"
    assert (write_path.settings.blobs_dir / digest[:2] / digest).read_bytes() == PDF
    webp = write_path.client.post(
        "/api/v1/documents", files={"file": ("x.webp", WEBP)}, headers=inspector.headers
    )
    assert webp.json()["media_type"] == "image/webp"


def test_mistyped_oversized_and_anonymous_uploads_are_refused(write_path: WritePath) -> None:
    supplier = write_path.actor(Role.SUPPLIER)
    before = write_path.counts()
    text = write_path.client.post(
        "/api/v1/documents",
        files={"file": ("a.pdf", b"hello, not a pdf")},
        headers=supplier.headers,
    )
    assert text.status_code == 415 and text.json()["field"] == "file"
    big = PNG + b"\x00" * write_path.settings.max_upload_bytes
    large = write_path.client.post(
        "/api/v1/documents", files={"file": ("big.png", big)}, headers=supplier.headers
    )
    assert large.status_code == 413 and large.json()["field"] == "file"
    anonymous = write_path.client.post("/api/v1/documents", files={"file": ("a.png", PNG)})
    assert anonymous.status_code == 401
    missing = write_path.client.post("/api/v1/documents", headers=supplier.headers)
    assert missing.status_code == 422
    assert write_path.counts() == before
    assert write_path.client.get("/api/v1/documents/" + "0" * 64).status_code == 404
    assert write_path.client.get("/api/v1/documents/nothex").status_code == 422


def test_events_cite_uploaded_documents_by_hash(write_path: WritePath) -> None:
    inspector = write_path.actor(Role.INSPECTOR)
    supplier = write_path.actor(Role.SUPPLIER)
    lot = write_path.lot(supplier, gtin(21), "DOC-1")
    uploaded = write_path.client.post(
        "/api/v1/documents", files={"file": ("r.png", PNG)}, headers=inspector.headers
    ).json()
    response = write_path.client.post(
        f"/api/v1/lots/{lot['lot_key']}/checkpoints",
        json={
            "kind": "inspected",
            "time": "2025-03-02T10:00:00Z",
            "result": "conformant",
            "documents": [uploaded["sha256"]],
        },
        headers=inspector.headers,
    )
    assert response.status_code == 201, response.text
    event = response.json()["event"]
    assert event["lotlink:documents"] == [f"ni:///sha-256;{uploaded['sha256']}"]
    assert event["eventTime"] == "2025-03-02T10:00:00.000+00:00"
