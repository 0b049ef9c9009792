"""Every event the service builds hashes identically with GS1's reference implementation."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from sqlalchemy import select

from fixtures.writepath import WritePath, gln, gtin
from lotlink.bench.event_hash import reference_document_hashes
from lotlink.epcis.build import LotRef, stored_digest
from lotlink.epcis.event_hash import digest_to_hash_id
from lotlink.epcis.validation import check_lotlink_event_rules, validate_document
from lotlink.models import Checkpoint
from lotlink.schemas.checkpoints import CheckpointCreate
from lotlink.services.checkpoint_forms import plain_checkpoint
from lotlink.vocabulary import Role


def forms(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for _ in range(count):
        hours = rng.randint(-12, 14)
        offset = (
            "Z"
            if hours == 0
            else f"{'+' if hours > 0 else '-'}{abs(hours):02d}:{rng.choice(['00', '30']) if abs(hours) < 14 else '00'}"
        )
        form: dict[str, Any] = {
            "kind": rng.choice(["produced", "inspected", "shipped", "received", "transformed"]),
            "time": f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T0{rng.randint(0, 9)}:1{rng.randint(0, 9)}:00.{rng.randint(0, 999):03d}{offset}",
        }
        if rng.random() < 0.7:
            form |= {
                "quantity": rng.choice([1, 2.5, 1000, 0.125]),
                "unit": rng.choice(["KGM", "H87"]),
            }
        if form["kind"] == "inspected":
            form["result"] = rng.choice(["conformant", "non_conformant", "damaged"])
        if form["kind"] == "shipped" or rng.random() < 0.3:
            form["destinations"] = [{"gln": gln(rng.randint(1, 50)), "type": "owning_party"}]
        if form["kind"] in ("received", "shipped") and rng.random() < 0.5:
            form["sources"] = [{"gln": gln(rng.randint(1, 50)), "type": "possessing_party"}]
        if form["kind"] == "transformed":
            form["inputs"] = [
                {
                    "gtin": gtin(rng.randint(100, 200)),
                    "lot_code": f"IN/{n}",
                    "quantity": 3,
                    "unit": "KGM",
                }
                for n in range(rng.randint(1, 3))
            ]
        if rng.random() < 0.3:
            form["documents"] = [f"{rng.getrandbits(256):064x}"]
        out.append(form)
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_built_events_equal_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    for form in forms(60, seed):
        plain = plain_checkpoint(
            CheckpointCreate(**form),
            lot=LotRef.of(gtin(rng.randint(1, 99)), rng.choice(["L1", "LOT-2025/03", "a.b_c"])),
            default_gln=gln(7),
        )
        previous = [rng.randbytes(32) for _ in range(rng.randint(0, 3))]
        event = plain.event(previous)
        document = {
            "@context": [
                "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                {"lotlink": "https://lotlink.dev/ns/epcis#"},
            ],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2025-03-01T10:00:00.000Z",
            "epcisBody": {"eventList": [event]},
        }
        validate_document(document)
        check_lotlink_event_rules(event)
        _, (expected,) = reference_document_hashes(document)
        assert digest_to_hash_id(plain.digest(previous)) == expected, json.dumps(event)


def test_stored_events_equal_the_reference(write_path: WritePath) -> None:
    supplier = write_path.actor(Role.SUPPLIER)
    inspector = write_path.actor(Role.INSPECTOR)
    lot = write_path.lot(supplier, gtin(41), "REF-1")
    write_path.lot(supplier, gtin(42), "REF-2")
    submissions = [
        (supplier, {"kind": "produced", "quantity": 12.5, "unit": "KGM"}),
        (inspector, {"kind": "inspected", "result": "damaged"}),
        (
            supplier,
            {
                "kind": "shipped",
                "destinations": [{"gln": gln(3)}, {"gln": gln(4), "type": "location"}],
            },
        ),
        (
            supplier,
            {
                "kind": "received",
                "sources": [{"gln": gln(5)}],
                "disposition": "sellable_not_accessible",
            },
        ),
        (
            supplier,
            {
                "kind": "transformed",
                "inputs": [{"gtin": gtin(42), "lot_code": "REF-2", "quantity": 1, "unit": "KGM"}],
            },
        ),
    ]
    for party, form in submissions:
        response = write_path.client.post(
            f"/api/v1/lots/{lot['lot_key']}/checkpoints",
            json={"time": "2025-05-05T05:05:05.555-03:30", **form},
            headers=party.headers,
        )
        assert response.status_code == 201, response.text
    with write_path.session() as session:
        rows = session.scalars(select(Checkpoint)).all()
        assert len(rows) == len(submissions)
        for row in rows:
            document = json.loads(row.epcis_json)
            validate_document(document)
            _, (expected,) = reference_document_hashes(document)
            assert expected == row.event_id
            assert "0x" + stored_digest(row.epcis_json).hex() == row.digest
