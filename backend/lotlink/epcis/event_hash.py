"""The CBV 2.0 EPCIS event hash, equal byte for byte to GS1's reference implementation.

Lotlink anchors event digests on chain, and anyone must be able to recompute them with GS1's
``epcis-event-hash-generator`` 1.9.3. A "cleaner" canonicalisation would be worthless, so this
module ports the reference's pipeline (``json_to_py`` -> ``json_xml_model_mismatch_correction``
-> ``hash_generator``) on the same ``(name, value, children)`` tree, quirks kept
(``event_hash_tree``). It is fast because it drops what the output does not depend on: the
JSON-LD engine (see ``event_hash_context``), deep copies, logging, dateutil; and because it
hashes an event one top-level field at a time where that gives the same text
(``event_hash_fields``), working out each distinct field value once per context.

Quirks of 1.9.3 that callers may notice (all reproduced; the test suite pins them):

- ``ignoreFields`` declared in a document is *not* honoured: ignored fields are hashed.
- Timestamps are rounded half-to-even to milliseconds and written in UTC, ``.000Z`` padded.
- ``gs1:``/``cbvmda:`` CURIEs are expanded only if the document's own (list) ``@context``
  declares the prefix; expanded keys read ``{iri}local``, expanded values ``iri + local``.
- ``bizTransactionList``/``sourceList``/``destinationList`` entries keep only their first two
  keys, in JSON order, and are not sorted inside; they and extensions come after the fixed part.
- Booleans are hashed as ``True``/``False``, numbers lose trailing zeros (``4.0`` -> ``4``).

Where the reference would log an error and silently drop the event, this module raises.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from lotlink.epcis.event_hash_context import (
    PreparedContext,
    bare_value_replacements,
    collect_expanded_values,
    prepare_context,
)
from lotlink.epcis.event_hash_fields import fieldwise_prehash
from lotlink.epcis.event_hash_tree import TreeBuilder, prehash_tree

HASH_VERSION = "CBV2.0"
_NI_PREFIX = "ni:///sha-256;"
_NI_SUFFIX = "?ver=" + HASH_VERSION


def event_prehash(event: Mapping[str, Any], *, context: Any = None) -> str:
    """The pre-hash string of one event, as the reference computes it for a one-event document.

    ``context`` is the document's ``@context``; None means the bare EPCIS 2.0 context (no
    extra prefixes, so extension keys stay ``prefix:name``).
    """
    prepared = prepare_context(context)
    prehash = fieldwise_prehash(event, prepared, None)
    if prehash is None:
        prehash = _whole_event_prehash(event, prepared, _expanded_vocabulary(event, prepared))
    return prehash


def event_digest(event: Mapping[str, Any], *, context: Any = None) -> bytes:
    """The 32-byte SHA-256 digest Lotlink anchors on chain as ``bytes32``."""
    return hashlib.sha256(event_prehash(event, context=context).encode()).digest()


def event_hash(event: Mapping[str, Any], *, context: Any = None) -> str:
    """The event hash ID, ``ni:///sha-256;<64 lower hex>?ver=CBV2.0`` (usable as ``eventID``)."""
    return digest_to_hash_id(event_digest(event, context=context))


def digest_to_hash_id(digest: bytes) -> str:
    """Write a 32-byte digest as the reference's ``ni:`` string (hex, not RFC 6920 base64url)."""
    return _NI_PREFIX + digest.hex() + _NI_SUFFIX


def document_prehashes(document: Mapping[str, Any]) -> list[str]:
    """Pre-hash strings of every event of an EPCISDocument (or a query document), in order.

    Bare CBV values are resolved across the whole document, as the reference does, so an
    event's pre-hash can depend on its neighbours (see ``event_hash_context``).
    """
    prepared = prepare_context(document.get("@context"))
    vocabulary = _expanded_vocabulary(document, prepared)
    prehashes = []
    for event in document_events(document):
        prehash = fieldwise_prehash(event, prepared, vocabulary)
        if prehash is None:
            prehash = _whole_event_prehash(event, prepared, vocabulary)
        prehashes.append(prehash)
    return prehashes


def document_hashes(document: Mapping[str, Any]) -> list[str]:
    """Hash IDs of every event of an EPCISDocument, in document order."""
    return [
        digest_to_hash_id(hashlib.sha256(prehash.encode()).digest())
        for prehash in document_prehashes(document)
    ]


def document_events(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The events of a capture document (``eventList`` or a single ``event``) or a query result."""
    body = document["epcisBody"]
    if "queryResults" in body:
        body = body["queryResults"]["resultsBody"]
    if "eventList" in body:
        return list(body["eventList"])
    return [body["event"]]


def _expanded_vocabulary(node: Mapping[str, Any], prepared: PreparedContext) -> frozenset[str]:
    expanded: set[str] = set()
    collect_expanded_values(node, prepared.active, expanded)
    return frozenset(expanded)


def _whole_event_prehash(
    event: Mapping[str, Any], prepared: PreparedContext, vocabulary: frozenset[str]
) -> str:
    builder = TreeBuilder(prepared.namespaces, bare_value_replacements(vocabulary))
    return prehash_tree(event, builder)
