"""The CBV 2.0 EPCIS event hash, equal byte for byte to GS1's reference implementation.

Lotlink anchors event digests on chain, and anyone must be able to recompute them with GS1's
``epcis-event-hash-generator`` 1.9.3. A "cleaner" canonicalisation would be worthless, so this
module ports the reference's pipeline (``json_to_py`` -> ``json_xml_model_mismatch_correction``
-> ``hash_generator``) on the same ``(name, value, children)`` tree, quirks kept. It is fast
because it drops what the output does not depend on: the JSON-LD engine (see
``event_hash_context``), deep copies, logging, dateutil, and re-running per value the
canonicalisations whose results can be cached.

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

import contextlib
import datetime
import hashlib
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from lotlink.epcis.event_hash_context import (
    PreparedContext,
    bare_value_replacements,
    collect_expanded_values,
    prepare_context,
)
from lotlink.epcis.event_hash_order import PROP_ORDER, PropOrder
from lotlink.epcis.event_hash_uris import normalise_key_uri

HASH_VERSION = "CBV2.0"
_NI_PREFIX = "ni:///sha-256;"
_NI_SUFFIX = "?ver=" + HASH_VERSION

Node = tuple[Any, Any, list[Any]]
"""The reference's tree: (name, text value, children); children may also be pairs of nodes."""

_TREE_IGNORED = frozenset({"#text", "rdfs:comment", "comment"})
_UNSORTED_MARKERS = ("bizTransaction", "source", "destination")
_PAIR_LISTS = frozenset({"sourceList", "destinationList", "bizTransactionList"})
_EVENT_IGNORED = frozenset({"recordTime", "eventID", "type", "errorDeclaration"})
_RENAMED_LEAVES = frozenset(
    {"inputEPC", "outputEPC", "inputQuantity", "outputQuantity", "childQuantity"}
)


def event_prehash(event: Mapping[str, Any], *, context: Any = None) -> str:
    """The pre-hash string of one event, as the reference computes it for a one-event document.

    ``context`` is the document's ``@context``; None means the bare EPCIS 2.0 context (no
    extra prefixes, so extension keys stay ``prefix:name``).
    """
    prepared = prepare_context(context)
    expanded: set[str] = set()
    collect_expanded_values(event, prepared.active, expanded)
    return _prehash(event, prepared, bare_value_replacements(expanded))


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
    expanded: set[str] = set()
    collect_expanded_values(document, prepared.active, expanded)
    replacements = bare_value_replacements(expanded)
    return [_prehash(event, prepared, replacements) for event in document_events(document)]


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


# --- JSON -> tree (json_to_py) -------------------------------------------------------------


def _prehash(
    event: Mapping[str, Any], prepared: PreparedContext, replacements: dict[str, str | None]
) -> str:
    namespaces = prepared.namespaces

    def declare_xmlns(key: str, value: Any) -> None:
        # JSON converted from XML may declare namespaces inline; the reference registers them
        # (globally, for good); here they last for this event only.
        nonlocal namespaces
        if namespaces is prepared.namespaces:
            namespaces = dict(namespaces)
        namespaces[key[7:]] = "{" + str(value) + "}"

    def value_text(value: Any) -> str:
        if isinstance(value, str):
            if value in replacements:
                value = replacements[value] or value
            if ":" in value:
                prefix, _, rest = value.partition(":")
                if prefix in namespaces:
                    return namespaces[prefix].replace("{", "").replace("}", "") + rest
            return value
        return str(value)

    def key_text(key: str) -> str:
        prefix, colon, rest = key.partition(":")
        if colon and prefix in namespaces:
            return namespaces[prefix] + rest
        return key

    def to_tree(obj: Any) -> Node:
        if isinstance(obj, list):
            node: Node = (
                "",
                "",
                [("", value_text(i), []) if isinstance(i, str) else to_tree(i) for i in obj],
            )
        elif isinstance(obj, dict | Mapping):
            name = text = ""
            if "type" in obj:  # an absent type must not pick up the replacement for ""
                name = obj["type"]
                if isinstance(name, str) and name in replacements:
                    name = replacements[name] or name
            if "#text" in obj:
                text = obj["#text"]
                if isinstance(text, str) and text in replacements:
                    text = replacements[text] or text
            children: list[Any] = []
            append = children.append
            for key, value in obj.items():
                if key in _TREE_IGNORED:
                    continue
                if ":" in key:
                    if key.startswith("@xmlns"):
                        declare_xmlns(key, value)
                        name = key_text(name) if isinstance(name, str) else name
                        continue
                    key = key_text(key)
                if isinstance(value, str | int | float) or value is None:
                    append((key, value_text(value), []))
                elif isinstance(value, list):
                    children.extend((key, e[1], e[2]) for e in to_tree(value)[2])
                else:
                    child = to_tree(value)
                    append((key, child[1], child[2]))
            node = (name, text, children)
        else:
            return ("", value_text(obj), [])
        if not ("bizTransaction" in obj or "source" in obj or "destination" in obj):
            node[2].sort()
        return node

    tree = _correct_structure(to_tree(event))
    return (
        "eventType="
        + tree[0]
        + _prehash_in_order(tree[2], PROP_ORDER)
        + _prehash_remaining([c for c in tree[2] if c[0] not in _EVENT_IGNORED])
    )


def _correct_structure(node: Node) -> Node:
    """Port of ``deep_structure_correction``: reshape the JSON tree like the XML one."""
    children = node[2] if len(node) > 2 else []
    if not children:
        if node[0] in ("inputEPC", "outputEPC"):
            return ("epc", node[1], children)
        if node[0] in ("inputQuantity", "outputQuantity", "childQuantity"):
            return ("quantityElement", node[1], children)
        return (node[0], node[1], children)
    lists: dict[str, list[Node]] = {}
    for element in [e for e in children if not isinstance(e[0], tuple) and e[0].endswith("List")]:
        lists.setdefault(element[0], []).append((element[0][:-4], element[1], element[2]))
        children.remove(element)
    for list_name, elements in lists.items():
        if list_name in _PAIR_LISTS:
            # IndexError on an entry with fewer than two keys, as in the reference
            children.append((list_name, "", [(e[2][0], e[2][1]) for e in elements]))
        else:
            children.append((list_name, "", elements))
    child_epcs: list[Node] = [("epc", e[1], []) for e in children if e[0] == "childEPCs"]
    if child_epcs:
        children[:] = [e for e in children if e[0] != "childEPCs"]
        children.append(("childEPCs", "", child_epcs))
    corrected = [
        e if e[0] in _PAIR_LISTS or not (e[2] or e[0] in _RENAMED_LEAVES) else _correct_structure(e)
        for e in children
    ]
    name, text = node[0], node[1]
    if name == "inputEPC" or name == "outputEPC":
        name = "epc"
    elif name in ("inputQuantity", "outputQuantity", "childQuantity") or (
        name == "quantity" and corrected
    ):
        name = "quantityElement"
    return (name, text, corrected)


# --- tree -> pre-hash string (hash_generator) ------------------------------------------------


def _prehash_in_order(child_list: list[Any], child_order: PropOrder) -> str:
    """Port of ``_recurse_through_children_in_order``; consumes what it hashes from child_list.

    The reference scans child_list once per ordered name; grouping by name in one pass gives
    the same result (names in an order are distinct, and removal only drops childless nodes).
    """
    user_extensions = _gather_user_extensions(child_list)
    groups: dict[Any, list[Any]] = {}
    for child in child_list:
        if isinstance(child[0], str):  # typed-list pairs have a node as "name": never ordered
            groups.setdefault(child[0], []).append(child)
    pre_hash = ""
    consumed = False
    for child_name, sub_order in child_order:
        children = groups.get(child_name)
        if not children:
            continue
        values = []
        for child in children:
            text = _child_prehash(child, sub_order)
            if text:
                values.append(text)
            if len(child[2]) == 0:
                consumed = True
        values.sort()
        pre_hash += "".join(values)
    if consumed:
        # Drop hashed leaves; what stays is hashed later with the remaining fields.
        ordered = _order_names(child_order)
        child_list[:] = [
            c
            for c in child_list
            if not (isinstance(c[0], str) and c[0] in ordered and len(c[2]) == 0)
        ]
    if user_extensions:
        pre_hash += _prehash_remaining(user_extensions)
    return pre_hash


_ORDER_NAMES: dict[int, frozenset[Any]] = {}


def _order_names(child_order: PropOrder) -> frozenset[Any]:
    # Orders are the static PROP_ORDER lists, so their identity is a stable key.
    names = _ORDER_NAMES.get(id(child_order))
    if names is None:
        names = _ORDER_NAMES[id(child_order)] = frozenset(name for name, _ in child_order)
    return names


def _child_prehash(child: Any, sub_order: PropOrder | None) -> str:
    grand_child_text = _prehash_in_order(child[2], sub_order) if sub_order else ""
    text = ""
    if child[1]:
        text = child[1].strip()
        text = _canonical_timestamp(text) if _is_time_field(child[0]) else _canonical_value(text)
        if text:
            text = "=" + text
    if text or grand_child_text:
        return child[0] + text + grand_child_text
    return ""


@lru_cache(maxsize=4096)
def _is_time_field(name: str) -> bool:
    """The reference's test for a timestamp field (eventTime, time, startTime, ...)."""
    lowered = name.lower()
    return "time" in lowered and "offset" not in lowered


def _gather_user_extensions(child_list: list[Any]) -> list[Any]:
    """Extensions nested in a field (readPoint, sensorElement...) are hashed with that field."""
    if len(child_list) <= 1:
        return []
    for child in child_list:
        if "eventTime" in child[0] or "action" in child[0]:
            return []  # the event level: its extensions are hashed with the remaining fields
    found = [x for x in child_list if isinstance(x, tuple) and "{" in x[0] and "/}" in x[0]]
    for element in found:
        child_list.remove(element)
    return found


def _prehash_remaining(children: Any) -> str:
    """Port of ``_generic_child_list_to_prehash_string``: everything not in PROP_ORDER."""
    values = []
    for child in children:
        if isinstance(child, tuple) and len(child) == 2 and isinstance(child[0], tuple):
            values.append(_prehash_remaining(child))
        else:
            text = child[1].strip()
            if text:
                text = "=" + _canonical_value(text)
            values.append(child[0] + text + _prehash_remaining(child[2]))
    if len(children) > 1 and not any(c[0] in _UNSORTED_MARKERS for c in children):
        values.sort()
    return "".join(values)


# --- values ----------------------------------------------------------------------------------

_CBV_URN_REPLACEMENTS = (
    ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
    ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
    ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
    ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
    ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
)


@lru_cache(maxsize=65536)
def _canonical_value(text: str) -> str:
    """CBV URNs -> web vocabulary, numbers without trailing zeros, GS1 keys -> canonical DL."""
    if "urn:epcglobal:cbv:" in text:
        for old, new in _CBV_URN_REPLACEMENTS:
            text = text.replace(old, new)
    # float() then int(): nan raises ValueError (text kept); inf raises OverflowError, as upstream
    with contextlib.suppress(ValueError):
        number = float(text)
        text = str(int(number) if int(number) == number else number)
    return normalise_key_uri(text) or text


def _canonical_timestamp(text: str) -> str:
    """UTC at millisecond precision, ``Z`` suffix; unparsable text is hashed as written.

    Rounds with ``round(us, -3)`` (half to even) like the reference; ``.9995``-style values that
    round up to a whole second make it raise (ValueError), and so does this.
    """
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return text
    moment = moment.astimezone(datetime.UTC)
    moment = moment.replace(microsecond=round(moment.microsecond, -3))
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"
