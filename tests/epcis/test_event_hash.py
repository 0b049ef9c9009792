"""The CBV 2.0 event hash equals GS1's reference (1.9.3): shared vectors and Lotlink-style events."""

from __future__ import annotations

import copy
import hashlib
import json
import random
from typing import Any

import pytest

from lotlink.bench.event_hash import (
    CONTEXT,
    epcis_document,
    lotlink_style_events,
    reference_document_hashes,
)
from lotlink.epcis.event_hash import (
    document_hashes,
    document_prehashes,
    event_digest,
    event_hash,
    event_prehash,
)
from lotlink.epcis.event_hash_uris import normalise_key_uri

from .conftest import VECTOR_FILES, load_vector


def test_vectors_are_present() -> None:
    assert len(VECTOR_FILES) >= 20


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.stem)
def test_vector_prehashes_and_hashes(path: Any) -> None:
    document, expected = load_vector(path)
    assert document_prehashes(document) == expected["prehashes"]
    assert document_hashes(document) == expected["hashes"]


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.stem)
def test_vector_equals_reference_in_process(path: Any) -> None:
    document, _ = load_vector(path)
    prehashes, hashes = reference_document_hashes(document)
    assert document_prehashes(document) == prehashes
    assert document_hashes(document) == hashes


def test_single_event_api_agrees_with_document_api() -> None:
    document, expected = load_vector(VECTOR_FILES[0].with_name("epcisDocWithSingleEvent.jsonld"))
    event = document["epcisBody"]["eventList"][0]
    context = document["@context"]
    assert event_prehash(event, context=context) == expected["prehashes"][0]
    assert event_hash(event, context=context) == expected["hashes"][0]
    digest = event_digest(event, context=context)
    assert len(digest) == 32
    assert digest == hashlib.sha256(expected["prehashes"][0].encode()).digest()
    assert expected["hashes"][0] == f"ni:///sha-256;{digest.hex()}?ver=CBV2.0"


def test_hashing_leaves_the_event_untouched() -> None:
    event = lotlink_style_events(1, seed=7)[0]
    before = copy.deepcopy(event)
    event_hash(event, context=CONTEXT)
    assert event == before


LOTLINK_EVENTS = lotlink_style_events(300, seed=20250301)


@pytest.mark.parametrize("start", range(0, 300, 50))
def test_lotlink_events_equal_reference_one_by_one(start: int) -> None:
    for event in LOTLINK_EVENTS[start : start + 50]:
        (prehash,), (expected,) = reference_document_hashes(epcis_document([event]))
        assert event_prehash(event, context=CONTEXT) == prehash, json.dumps(event)
        assert event_hash(event, context=CONTEXT) == expected


def test_lotlink_document_equals_reference() -> None:
    document = epcis_document(LOTLINK_EVENTS)
    prehashes, hashes = reference_document_hashes(document)
    assert document_prehashes(document) == prehashes
    assert document_hashes(document) == hashes


def test_lotlink_events_cover_the_shapes_issue_3_names() -> None:
    kinds = {(e["type"], e.get("action")) for e in LOTLINK_EVENTS}
    assert {
        ("ObjectEvent", "ADD"),
        ("ObjectEvent", "OBSERVE"),
        ("TransformationEvent", None),
    } <= kinds
    for field in (
        "sourceList",
        "destinationList",
        "bizTransactionList",
        "ilmd",
        "sensorElementList",
    ):
        assert any(field in e for e in LOTLINK_EVENTS), field
    assert any(e["lotlink:previous"] for e in LOTLINK_EVENTS)


@pytest.mark.parametrize(
    ("context", "label"),
    [
        (None, "bare EPCIS context"),
        (["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "no prefixes"),
        ({"lotlink": "https://ns.lotlink.dev/epcis/"}, "dict context declares nothing"),
    ],
)
def test_contexts_without_declared_prefixes_equal_reference(context: Any, label: str) -> None:
    for event in LOTLINK_EVENTS[:40]:
        doc_context = (
            ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
            if context is None
            else context
        )
        (prehash,), _ = reference_document_hashes(epcis_document([event], context=doc_context))
        assert event_prehash(event, context=context) == prehash, label


def test_quirks_of_1_9_3_are_reproduced() -> None:
    event = {
        "type": "ObjectEvent",
        "eventTime": "2025-03-01T09:30:00.1234567+01:00",
        "eventTimeZoneOffset": "+01:00",
        "epcList": ["https://id.gs1.org/01/09521234543213/21/SN001"],
        "action": "OBSERVE",
        "bizStep": "inspecting",
        "lotlink:ok": True,
        "lotlink:note": "inspecting",
        "ilmd": {"gs1:grade": "gs1:A", "cbvmda:lotNumber": "L1"},
    }
    context = [CONTEXT[0], {"lotlink": "https://ns.lotlink.dev/epcis/"}]
    (expected,), _ = reference_document_hashes(epcis_document([event], context=context))
    prehash = event_prehash(event, context=context)
    assert prehash == expected
    assert "eventTime=2025-03-01T08:30:00.123Z" in prehash  # UTC, milliseconds
    assert "{https://ns.lotlink.dev/epcis/}ok=True" in prehash  # Python's bool text
    # bare values are replaced wherever they appear, extensions included
    assert "note=https://ref.gs1.org/cbv/BizStep-inspecting" in prehash
    # undeclared prefixes (gs1:, cbvmda:) stay as written
    assert "gs1:grade=gs1:A" in prehash and "cbvmda:lotNumber=L1" in prehash


def _random_uri(rng: random.Random) -> str:
    def digits(n: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(n))

    def text(n: int) -> str:
        return "".join(rng.choice("AZaz09-._!()*+,:%/?;<=>\"'#") for _ in range(rng.randint(1, n)))

    return rng.choice(
        [
            f"urn:epc:id:sgtin:{digits(7)}.{digits(6)}.{text(20)}",
            f"urn:epc:id:sgln:{digits(7)}.{digits(5)}.{rng.choice(['0', text(8)])}",
            f"urn:epc:id:sscc:{digits(7)}.{digits(10)}",
            f"urn:epc:class:lgtin:{digits(8)}.{digits(5)}.{text(20)}",
            f"urn:epc:idpat:sgtin:{digits(9)}.{digits(4)}.*",
            f"urn:epc:id:grai:{digits(7)}.{digits(5)}.{text(16)}",
            f"urn:epc:id:giai:{digits(7)}.{text(20)}",
            f"https://id.gs1.org/01/{digits(14)}/10/{text(20)}",
            f"https://example.com/shop/01/{digits(13)}/22/{text(5)}/10/{text(10)}?17=261231",
            f"https://id.gs1.org/01/{digits(14)}/10/{text(8)}/21/{text(8)}",
            f"http://id.example.org/gtin/{digits(12)}/ser/{text(8)}#frag",
            f"https://id.gs1.org/414/{digits(13)}/254/{text(6)}",
            f"https://id.gs1.org/00/{digits(18)}",
            f"https://id.gs1.org/8004/{digits(7)}{text(10)}",
            f"https://example.org/no/key/{text(10)}",
        ]
    )


def test_uri_normalisation_equals_reference_on_generated_uris() -> None:
    from epcis_event_hash_generator.dl_normaliser import normaliser

    rng = random.Random(404)
    for _ in range(6000):
        uri = _random_uri(rng)
        assert normalise_key_uri(uri) == normaliser(uri), uri
