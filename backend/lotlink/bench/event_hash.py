"""`lotlink bench event-hash`: events/s of Lotlink's CBV 2.0 hasher against GS1's reference.

Both hash the same Lotlink-style events (the generator below, shared with the tests): every
field drawn at random, so nothing repeats from one event to the next. The reference
(``epcis-event-hash-generator`` 1.9.3) is a dev dependency and is imported only here and in
tests; it runs on one document holding every event, its fastest path (one JSON-LD expansion).
Ours is timed per event, as the capture path calls it, and per document.

Beside them, ours on checkpoints as the service builds them (``epcis.build.build_event``, its
context): each lot's hash chain of inspections, shipments and receipts at one site, quantities
varying, some citing documents. Each event is hashed once, as capture hashes it.
"""

from __future__ import annotations

import copy
import datetime
import random
import time
import warnings
from decimal import Decimal
from typing import Any

from lotlink.epcis import build
from lotlink.epcis.event_hash import digest_to_hash_id, document_hashes, event_digest, event_hash
from lotlink.gs1.keys import check_digit
from lotlink.vocabulary import CheckpointKind

LOTLINK_NS = "https://ns.lotlink.dev/epcis/"
EPCIS_CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
CONTEXT: list[Any] = [
    EPCIS_CONTEXT_URL,
    {"lotlink": LOTLINK_NS, "cbvmda": "urn:epcglobal:cbv:mda:"},
]

_LOT_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-._"
_OBSERVE_STEPS = [
    ("inspecting", "conformant"),
    ("sampling", "non_conformant"),
    ("shipping", "in_transit"),
    ("departing", "in_transit"),
    ("receiving", "in_progress"),
    ("storing", "sellable_not_accessible"),
    ("holding", "recalled"),
]
_UNITS = ["KGM", "H87", "LTR", "CT"]


def _gs1_key(rng: random.Random, digits: int) -> str:
    body = "".join(rng.choice("0123456789") for _ in range(digits - 1))
    return body + str(check_digit(body))


def _time(rng: random.Random) -> tuple[str, str]:
    hours = rng.randint(-12, 14)
    minutes = rng.choice(["00", "30"]) if abs(hours) < 14 else "00"  # within ±14:00
    offset = f"{'+' if hours >= 0 else '-'}{abs(hours):02d}:{minutes}"
    stamp = (
        f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
        f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}{offset}"
    )
    return stamp, offset


def _quantities(rng: random.Random, gtins: list[str]) -> list[dict[str, Any]]:
    out = []
    for _ in range(rng.randint(1, 3)):
        lot = "".join(rng.choice(_LOT_CHARS) for _ in range(rng.randint(3, 12)))
        quantity: float = rng.choice([rng.randint(1, 5000), round(rng.uniform(0.5, 999), 2), 4.0])
        out.append(
            {
                "epcClass": f"https://id.gs1.org/01/{rng.choice(gtins)}/10/{lot}",
                "quantity": quantity,
                "uom": rng.choice(_UNITS),
            }
        )
    return out


def _party(rng: random.Random, glns: list[str], kind: str, key: str) -> dict[str, str]:
    return {"type": kind, key: f"https://id.gs1.org/414/{rng.choice(glns)}"}


def lotlink_style_events(count: int, *, seed: int = 2025) -> list[dict[str, Any]]:
    """Events shaped like those Lotlink builds (see issue #3), deterministic for a seed."""
    rng = random.Random(seed)
    gtins = [_gs1_key(rng, 14) for _ in range(20)]
    glns = [_gs1_key(rng, 13) for _ in range(10)]
    events = []
    for n in range(count):
        stamp, offset = _time(rng)
        site = f"https://id.gs1.org/414/{rng.choice(glns)}"
        event: dict[str, Any] = {"eventTime": stamp, "eventTimeZoneOffset": offset}
        roll = rng.random()
        if roll < 0.15:
            event |= {
                "type": "TransformationEvent",
                "inputQuantityList": _quantities(rng, gtins),
                "outputQuantityList": _quantities(rng, gtins),
                "bizStep": "commissioning",
                "disposition": "active",
            }
        elif roll < 0.4:
            event |= {
                "type": "ObjectEvent",
                "action": "ADD",
                "quantityList": _quantities(rng, gtins),
                "bizStep": rng.choice(["commissioning", "creating_class_instance"]),
                "disposition": "active",
            }
        else:
            step, disposition = rng.choice(_OBSERVE_STEPS)
            event |= {
                "type": "ObjectEvent",
                "action": "OBSERVE",
                "quantityList": _quantities(rng, gtins),
                "bizStep": step,
                "disposition": disposition,
            }
            if step in ("shipping", "departing"):
                event["destinationList"] = [
                    _party(rng, glns, "owning_party", "destination"),
                    _party(rng, glns, "location", "destination"),
                ]
            if step in ("receiving", "storing"):
                event["sourceList"] = [_party(rng, glns, "possessing_party", "source")]
            if step in ("inspecting", "sampling") and rng.random() < 0.6:
                event["sensorElementList"] = [
                    {
                        "sensorMetadata": {"time": stamp, "deviceID": f"urn:uuid:dev-{n}"},
                        "sensorReport": [
                            {"type": "Temperature", "value": rng.randint(-20, 40), "uom": "CEL"},
                            {"type": "RelativeHumidity", "value": 55.5, "uom": "P1"},
                        ],
                    }
                ]
        event["readPoint"] = {"id": site}
        event["bizLocation"] = {"id": site}
        if rng.random() < 0.5:
            event["bizTransactionList"] = [
                {
                    "type": rng.choice(["po", "desadv", "bol", "prodorder"]),
                    "bizTransaction": (
                        f"urn:epcglobal:cbv:bt:{rng.choice(glns)}:{rng.randint(1, 99999)}"
                    ),
                }
            ]
        if event.get("action") == "ADD" or event["type"] == "TransformationEvent":
            event["ilmd"] = {
                "cbvmda:bestBeforeDate": f"2026-{rng.randint(1, 12):02d}-01",
                "lotlink:harvestField": f"field-{rng.randint(1, 40)}",
            }
        event["lotlink:previous"] = [
            f"ni:///sha-256;{rng.getrandbits(256):064x}?ver=CBV2.0"
            for _ in range(rng.randint(0, 2))
        ]
        events.append(event)
    return events


_CHAIN_KINDS = (CheckpointKind.INSPECTED, CheckpointKind.SHIPPED, CheckpointKind.RECEIVED)


def checkpoint_chain_events(count: int, *, lots: int = 32, seed: int = 3) -> list[dict[str, Any]]:
    """``count`` checkpoints built by the service's builder, round-robin over ``lots`` lots.

    Each lot's events follow one another in time and name a previous digest after the first
    (random bytes: building must not hash, so no cache is warm before the timed pass).
    """
    rng = random.Random(seed)
    refs = [build.LotRef.of(_gs1_key(rng, 14), f"LOT-{n:04d}") for n in range(lots)]
    sites = [_gs1_key(rng, 13) for _ in range(4)]
    start = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    events = []
    for n in range(count):
        kind = _CHAIN_KINDS[n // lots % len(_CHAIN_KINDS)]
        quantity = Decimal(rng.randint(1, 500_000)) / 100
        spec = build.CheckpointSpec(
            kind=kind,
            biz_step=build.BIZ_STEPS[kind][0],
            disposition=build.DISPOSITIONS[kind][0],
            event_time=start + datetime.timedelta(seconds=n, milliseconds=rng.randint(0, 999)),
            location_gln=sites[n % lots % len(sites)],
            lots=[build.QuantityLine(refs[n % lots], quantity, "KGM")],
            documents=[f"{rng.getrandbits(256):064x}"] if n % 3 == 0 else [],
            previous=[rng.randbytes(32)] if n >= lots else [],
        )
        events.append(build.build_event(spec))
    return events


def epcis_document(events: list[dict[str, Any]], *, context: Any = None) -> dict[str, Any]:
    """Wrap events in an EPCISDocument with Lotlink's context."""
    return {
        "@context": CONTEXT if context is None else context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2025-03-01T10:00:00.000Z",
        "epcisBody": {"eventList": events},
    }


def reference_document_hashes(document: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(prehashes, hashes) from GS1's reference library, called in-process (dev only).

    The reference mutates its input and keeps declared prefixes in a module global across
    calls; both are neutralised so each document is hashed on its own. Its context loader uses
    ``importlib.resources.open_text``, deprecated on 3.11: that warning is silenced here only.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from epcis_event_hash_generator import hash_generator, json_to_py

        json_to_py._namespaces.clear()
        events = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document))
    prehashes = hash_generator.derive_prehashes_from_events(events)
    return prehashes, hash_generator.calculate_hashes_from_pre_hashes(prehashes)


def measure_event_hash(count: int) -> dict[str, Any]:
    """Hash ``count`` generated events with ours and with the reference; events/s of each."""
    # A running service has compiled the GS1 key patterns and read the EPCIS context already.
    warm_up = lotlink_style_events(50, seed=1)
    document_hashes(epcis_document(warm_up))
    reference_document_hashes(epcis_document(warm_up))

    events = lotlink_style_events(count)
    document = epcis_document(events)

    started = time.perf_counter()
    ours = [event_hash(event, context=CONTEXT) for event in events]
    ours_per_event_s = time.perf_counter() - started

    started = time.perf_counter()
    ours_document = document_hashes(document)
    ours_document_s = time.perf_counter() - started

    started = time.perf_counter()
    _, reference = reference_document_hashes(document)
    reference_s = time.perf_counter() - started

    checkpoints = checkpoint_chain_events(count)
    started = time.perf_counter()
    digests = [event_digest(event, context=build.CONTEXT) for event in checkpoints]
    checkpoints_s = time.perf_counter() - started
    _, checkpoints_reference = reference_document_hashes(
        epcis_document(checkpoints, context=build.CONTEXT)
    )

    return {
        "events": count,
        "ours_per_event_events_per_s": count / ours_per_event_s,
        "ours_document_events_per_s": count / ours_document_s,
        "reference_events_per_s": count / reference_s,
        "speedup": reference_s / ours_per_event_s,
        "checkpoints_events_per_s": count / checkpoints_s,
        "checkpoints_us_per_event": checkpoints_s / count * 1e6,
        "equal": ours == reference == ours_document
        and [digest_to_hash_id(d) for d in digests] == checkpoints_reference,
    }
