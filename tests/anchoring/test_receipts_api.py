"""The receipt and manifest endpoints: pending, anchored, unknown; manifest bytes as anchored."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from anchoring.builders import Submitter
from anchoring.checks import batch_anchored_logs
from fixtures.world import World
from lotlink.anchoring.manifest import manifest_hash_of, parse_manifest
from lotlink.anchoring.verify import verify_receipt
from lotlink.config import Settings
from lotlink.main import create_app
from lotlink.models import Checkpoint


def test_a_receipt_is_pending_then_anchored_and_verifies_against_the_chain(
    world: World,
    service_settings: Settings,
    sessions: sessionmaker[Session],
    submitter: Submitter,
    anchorer_factory: Any,
) -> None:
    start = world.w3.eth.block_number + 1
    digest, *_ = submitter.accept(3)
    settings = service_settings.model_copy(update={"anchorer_enabled": False})
    with TestClient(create_app(settings)) as client:
        pending = client.get(f"/api/v1/checkpoints/{digest}/receipt")
        assert pending.status_code == 202 and pending.headers["retry-after"] == "1"
        assert pending.json()["status"] == "pending"

        anchorer_factory().drain()
        response = client.get(f"/api/v1/checkpoints/{digest.upper().replace('0X', '0x')}/receipt")
        assert response.status_code == 200
        receipt = response.json()
        assert receipt["status"] == "anchored" and receipt["mode"] == "batch"
        assert verify_receipt(receipt, world.w3) == []

        (anchored,) = batch_anchored_logs(world.lotlink, start)
        manifest = client.get(f"/api/v1/batches/{receipt['root']}/manifest")
        assert manifest.status_code == 200
        assert manifest_hash_of(manifest.content) == anchored["manifestHash"]
        assert manifest.headers["x-manifest-hash"] == anchored["manifestHash"]
        parsed = parse_manifest(manifest.content, expected_hash=anchored["manifestHash"])
        assert parsed.root == receipt["root"] and digest in {e.digest for e in parsed.events}

        unknown = client.get(f"/api/v1/checkpoints/0x{'00' * 32}/receipt")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"] == "application/problem+json"
        assert client.get(f"/api/v1/batches/0x{'00' * 32}/manifest").status_code == 404
        assert client.get("/api/v1/checkpoints/nothex/receipt").status_code == 422

    # A row edited in SQL no longer verifies: the receipt names what broke.
    with sessions.begin() as session:
        stored = session.get_one(Checkpoint, digest)
        document = json.loads(stored.epcis_json)
        document["epcisBody"]["eventList"][0]["bizStep"] = "shipping"
        session.execute(
            update(Checkpoint)
            .where(Checkpoint.digest == digest)
            .values(epcis_json=json.dumps(document))
        )
    with TestClient(create_app(settings)) as client:
        tampered = client.get(f"/api/v1/checkpoints/{digest}/receipt").json()
    problems = verify_receipt(tampered, world.w3)
    assert len(problems) == 1 and "hashes to" in problems[0]
