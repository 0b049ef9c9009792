"""The browser's CBV 2.0 event hash (eventhash.js, gs1uris.js) equals Lotlink's Python hasher.

Everything goes to one node process per test as a JSON batch; the JS either gives the same digest
or says the event is unsupported (the page then shows "not checked"), never a different digest.
"""

from __future__ import annotations

import datetime
import json
import random
from decimal import Decimal
from typing import Any

from lotlink.bench.event_hash import epcis_document, lotlink_style_events
from lotlink.epcis.build import (
    BIZ_STEPS,
    CONTEXT,
    DISPOSITIONS,
    CheckpointSpec,
    LotRef,
    Party,
    QuantityLine,
    build_event,
    digest_of,
    finish_event,
    stored_digest,
    stored_document,
)
from lotlink.epcis.event_hash import document_prehashes
from lotlink.epcis.event_hash_tree import canonical_timestamp, canonical_value
from lotlink.epcis.event_hash_uris import normalise_key_uri
from lotlink.gs1.keys import check_digit
from lotlink.vocabulary import CheckpointKind

from .conftest import STATIC, run_node

VECTORS = sorted((STATIC.parents[5] / "shared" / "vectors" / "epcis-event-hash").glob("*.jsonld"))


def _stored(event: dict[str, Any], *, context: Any = CONTEXT) -> str:
    return stored_document(
        event, context=context, created=datetime.datetime(2025, 3, 1, tzinfo=datetime.UTC)
    )


def _run_stored(texts: list[str]) -> list[dict[str, Any]]:
    batch = [{"id": i, "mode": "stored", "input": json.loads(t)} for i, t in enumerate(texts)]
    return run_node("hash_batch.mjs", batch)


def test_every_shared_vector_is_supported_and_equal() -> None:
    assert len(VECTORS) == 20
    batch = [
        {"id": p.stem, "mode": "document", "input": json.loads(p.read_text())} for p in VECTORS
    ]
    for result in run_node("hash_batch.mjs", batch):
        expected = json.loads((VECTORS[0].parent / f"{result['id']}.expected.json").read_text())
        assert "digests" in result, result
        assert result["prehashes"] == expected["prehashes"], result["id"]
        assert result["digests"] == expected["hashes"], result["id"]


def test_generated_lotlink_style_events_equal_python() -> None:
    events = lotlink_style_events(400, seed=77)
    texts = [json.dumps(epcis_document([event]), ensure_ascii=False) for event in events]
    results = _run_stored(texts)
    assert len(results) == 400
    for text, result in zip(texts, results, strict=True):
        assert "digest" in result, result
        assert result["digest"] == "0x" + stored_digest(text).hex()
        document = json.loads(text)
        assert result["prehash"] == document_prehashes(document)[0]


def _specs(rng: random.Random) -> list[CheckpointSpec]:
    gtin = "0952123400005" + str(check_digit("0952123400005"))
    lots = [LotRef.of(gtin, code) for code in ("L-1", "B2/x", "A%B", "9.5")]
    gln = [f"952123400{i:03d}" + str(check_digit(f"952123400{i:03d}")) for i in range(3)]
    specs = []
    for kind in CheckpointKind:
        for n in range(6):
            when = datetime.datetime(2025, 1 + n, 3, 10, 20, 30, 123000 * (n % 2)).replace(
                tzinfo=datetime.timezone(datetime.timedelta(minutes=rng.choice([-330, 0, 60, 840])))
            )
            quantity = rng.choice(
                [None, Decimal("4"), Decimal("4.0"), Decimal("12.345"), Decimal("0.00001")]
            )
            line = QuantityLine(rng.choice(lots), quantity, "KGM" if quantity is not None else None)
            specs.append(
                CheckpointSpec(
                    kind=kind,
                    biz_step=BIZ_STEPS[kind][n % len(BIZ_STEPS[kind])],
                    disposition=DISPOSITIONS[kind][n % len(DISPOSITIONS[kind])],
                    event_time=when,
                    location_gln=gln[0],
                    lots=[line],
                    inputs=[QuantityLine(lots[0], Decimal("1000"), "KGM")]
                    if kind is CheckpointKind.TRANSFORMED
                    else (),
                    sources=[Party("owning_party", gln[1])] if n % 3 == 1 else (),
                    destinations=[Party("location", gln[2])] if n % 3 == 2 else (),
                    documents=["ab" * 32] if n % 2 else (),
                    previous=[bytes([n]) * 32] if n else (),
                )
            )
    return specs


def test_events_built_by_lotlink_equal_python() -> None:
    texts = []
    for spec in _specs(random.Random(5)):
        event = build_event(spec)
        texts.append(_stored(finish_event(event, digest_of(event))))
    results = _run_stored(texts)
    for text, result in zip(texts, results, strict=True):
        assert result.get("digest") == "0x" + stored_digest(text).hex(), result


def test_extra_shapes_equal_python_or_are_unsupported() -> None:
    """certificationInfo, sensors, ilmd, numbers of every kind, bare values in extensions."""
    base = lotlink_style_events(1, seed=3)[0]
    variants: list[dict[str, Any]] = []
    for value in [
        1e-05,
        1e16,
        123456789012345678,
        -0.0,
        0.1,
        2.5e-7,
        "4.000",
        "1e3",
        "nan",
        "0x10",
        "+.5",
        "shipping",
        "",
        " x ",
    ]:
        event = dict(base)
        event["ilmd"] = {"lotlink:v": value, "lotlink:list": [value, "a", 3]}
        event["certificationInfo"] = "https://cert.example/" + str(value)
        event["sensorElementList"] = [
            {
                "sensorMetadata": {
                    "time": "2025-01-01T00:00:00.0005+00:00",
                    "bizRules": "https://x.example/r",
                },
                "sensorReport": [
                    {
                        "type": "Temperature",
                        "value": value if not isinstance(value, str) else 1,
                        "uom": "CEL",
                    }
                ],
            }
        ]
        variants.append(event)
    texts = [_stored(event) for event in variants]
    for text, result in zip(texts, _run_stored(texts), strict=True):
        assert result.get("digest") == "0x" + stored_digest(text).hex(), (text, result)


def test_what_the_port_cannot_reproduce_is_reported_unsupported() -> None:
    base = lotlink_style_events(1, seed=3)[0]
    cases = [
        {"ilmd": {"lotlink:n": "١٢٣"}},  # Python's float() reads Arabic-Indic digits
        {"ilmd": {"lotlink:n": "1_000"}},  # and digit separators
        {"ilmd": {"lotlink:n": "inf"}},  # which the reference cannot hash at all
        {"eventTime": "2025-01-01 10:00:00Z"},  # an ISO form outside the port
        {"eventTime": "2025-01-01T10:00:00.9999995+00:00"},
        {"@xmlns:x": "urn:x"},
        {"type": {"nested": True}},
        {"bizTransactionList": [{"bizTransaction": "urn:x"}]},  # the reference crashes on it
    ]
    texts = [_stored(base | case) for case in cases]
    for result in _run_stored(texts):
        assert "unsupported" in result, result
    # and a document that is not a one-event document
    two = json.dumps(epcis_document([base, base]))
    assert "unsupported" in _run_stored([two])[0]


def test_values_timestamps_and_uris_equal_python() -> None:
    rng = random.Random(11)

    def digits(n: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(n))

    def text(n: int) -> str:
        return "".join(rng.choice("AZaz09-._!()*+,:%/?;<=>\"'#") for _ in range(rng.randint(1, n)))

    uris = [
        rng.choice(
            [
                f"urn:epc:id:sgtin:{digits(7)}.{digits(6)}.{text(20)}",
                f"urn:epc:id:sgln:{digits(7)}.{digits(5)}.{rng.choice(['0', text(8)])}",
                f"urn:epc:id:sscc:{digits(7)}.{digits(10)}",
                f"urn:epc:class:lgtin:{digits(8)}.{digits(5)}.{text(20)}",
                f"urn:epc:idpat:sgtin:{digits(9)}.{digits(4)}.*",
                f"urn:epc:id:grai:{digits(7)}.{digits(5)}.{text(16)}",
                f"urn:epc:id:giai:{digits(7)}.{text(20)}",
                f"urn:epc:id:gdti:{digits(8)}.{digits(4)}.{text(10)}",
                f"urn:epc:id:cpi:{digits(7)}.{rng.choice(['AB-1', '12', '%23X'])}.{digits(4)}",
                f"urn:epc:id:sgcn:{digits(9)}.{digits(3)}.{digits(5)}",
                f"urn:epc:id:ginc:{digits(8)}.{text(10)}",
                f"urn:epc:id:gsin:{digits(8)}.{digits(8)}",
                f"urn:epc:id:gsrn:{digits(7)}.{digits(10)}",
                f"urn:epc:id:gsrnp:{digits(7)}.{digits(10)}",
                f"urn:epc:id:itip:{digits(7)}.{digits(6)}.{digits(2)}.{digits(2)}.{text(8)}",
                f"urn:epc:id:upui:{digits(7)}.{digits(6)}.{text(20)}",
                f"urn:epc:id:pgln:{digits(7)}.{digits(5)}",
                f"urn:epc:idpat:grai:{digits(7)}.{digits(5)}.*",
                f"urn:epc:idpat:gdti:{digits(7)}.{digits(5)}.*",
                f"urn:epc:idpat:sgcn:{digits(7)}.{digits(5)}.*",
                f"urn:epc:idpat:cpi:{digits(7)}.{digits(3)}.*",
                f"urn:epc:idpat:itip:{digits(7)}.{digits(6)}.{digits(2)}.{digits(2)}.*",
                f"urn:epc:idpat:upui:{digits(7)}.{digits(6)}.*",
                f"https://id.gs1.org/01/{digits(14)}/10/{text(20)}",
                f"https://example.com/shop/01/{digits(13)}/22/{text(5)}/10/{text(10)}?17=261231",
                f"https://id.gs1.org/01/{digits(rng.choice([8, 12, 13, 14]))}/21/{text(8)}",
                f"https://id.gs1.org/01/{digits(14)}/10/{text(8)}/21/{text(8)}",
                f"https://x.example/8006/{digits(18)}/22/{text(6)}",
                f"http://id.example.org/gtin/{digits(12)}/ser/{text(8)}#frag",
                f"https://id.gs1.org/414/{digits(13)}/254/{text(6)}",
                f"https://id.gs1.org/00/{digits(18)}",
                f"https://id.gs1.org/8004/{digits(7)}{text(10)}",
                f"https://id.gs1.org/8010/{digits(8)}AB/8011/{digits(4)}",
                f"https://example.org/no/key/{text(10)}",
            ]
        )
        for _ in range(1500)
    ]
    numbers = [
        rng.choice(
            [
                str(rng.uniform(-1e6, 1e6)),
                f"{rng.random():.{rng.randint(0, 9)}e}",
                str(rng.randint(-99, 99)) + ".000",
                "1e-7",
                "-0",
                "12e400",
                ".5e1",
            ]
        )
        for _ in range(300)
    ]
    stamps = []
    for _ in range(300):
        offset = rng.choice(["Z", "+00:00", "-05:30", "+14:00", "-12:00", "+05:45"])
        frac = rng.choice(["", "." + digits(rng.randint(1, 6)), ".0005", ".9994"])
        stamps.append(
            f"{rng.randint(1970, 2099)}-{rng.randint(1, 12):02d}-{rng.randint(1, 31):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}{frac}{offset}"
        )
    batch = (
        [{"id": ["uri", u], "mode": "uri", "input": u} for u in uris]
        + [{"id": ["value", v], "mode": "value", "input": v} for v in numbers]
        + [{"id": ["timestamp", s], "mode": "timestamp", "input": s} for s in stamps]
    )
    supported = 0
    for result in run_node("hash_batch.mjs", batch):
        kind, value = result["id"]
        assert "error" not in result, result
        if "unsupported" in result:
            assert kind == "value" and "e400" in value, result  # the reference overflows on it
            continue
        supported += 1
        if kind == "uri":
            assert result["value"] == normalise_key_uri(value), value
        elif kind == "value":
            assert result["value"] == canonical_value(value), value
        else:
            assert result["value"] == canonical_timestamp(value), value
    assert supported > len(batch) * 0.9


def test_vendored_epcis_context_equals_the_python_one() -> None:
    from importlib import resources

    ours = json.loads(
        resources.files("lotlink.epcis").joinpath("schemas/epcis-context.jsonld").read_text()
    )
    (result,) = run_node("eval_module.mjs", [{"id": 1, "fn": "context"}])
    assert result["value"] == ours["@context"]
