"""The CBV 2.0 event hash one top-level field at a time, each distinct field value worked out once.

At the event level the reference's pre-hash is ``eventType=<type>``, then the texts of the
fields named in ``PROP_ORDER`` (by that order, each name's texts sorted), then the texts of all
other fields, sorted together. What one top-level JSON entry contributes to those texts depends
only on that entry, the document's prefixes and the bare-value replacements, as long as entries
cannot meet in the tree:

- no two entries get the same tree name, and none is renamed by the structure correction
  (``inputEPC``, ``quantity``...), so the correction and the ordering group by entry;
- the event has no ``bizTransaction``/``source``/``destination`` entry (those keep the
  event's children unsorted) and has an ``eventTime``- or ``action``-named one (else the event
  level gathers extensions across entries);
- no ``@xmlns`` declaration (it changes prefixes for the entries after it) and no non-string
  ``#text`` (the whole-event sort could compare it with another entry's).

Under those conditions the pre-hash is assembled from per-entry texts, and each distinct entry
(key and value: ``bizStep``, ``readPoint``, a lot's ``quantityList``...) is worked out once per
context: its tree name, its expanded vocabulary, and its texts for each vocabulary it meets. A
producer's events repeat those; what is new in every event (timestamps, lists of references
such as ``lotlink:previous``) is plain, cheap to hash directly, and not remembered. Quantity
lists, new whenever a quantity is, get a shortcut for their plain form (epcClass, quantity,
uom): the tree path's result written directly, and the expansion taken field by field.
Otherwise, or if anything raises, :func:`fieldwise_prehash` returns None and the caller runs
the whole-event port (``event_hash_tree.prehash_tree``), which decides, errors included.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lotlink.epcis.event_hash_context import (
    PreparedContext,
    bare_value_replacements,
    collect_expanded_field,
)
from lotlink.epcis.event_hash_order import PROP_ORDER, PropOrder
from lotlink.epcis.event_hash_tree import (
    EVENT_IGNORED,
    RENAMED_LEAVES,
    TREE_IGNORED,
    UNSORTED_MARKERS,
    Node,
    TreeBuilder,
    canonical_value,
    child_prehash,
    correct_structure,
    is_time_field,
    remaining_text,
)

_ORDER: dict[str, tuple[int, PropOrder | None]] = {
    name: (index, sub_order) for index, (name, sub_order) in enumerate(PROP_ORDER)
}
# Event types and entry names the structure correction renames at the event level.
_RENAMED = RENAMED_LEAVES | {"quantity"}
_QUANTITY_LISTS = frozenset(
    {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"}
)
_QUANTITY_FIELDS = ("epcClass", "quantity", "uom")  # their order in PROP_ORDER
_MEMO_LIMIT = 8192  # keys or entries per context
_TEXTS_LIMIT = 64  # vocabularies (or replaced texts) per entry

Texts = tuple[tuple[tuple[int, str], ...], tuple[str, ...]]
"""What one entry contributes: (ordered (PROP_ORDER index, text) pairs, remaining texts)."""


class NotFieldwise(Exception):
    """The event breaks a condition of the module docstring: hash it as a whole."""


class _FieldTreeBuilder(TreeBuilder):
    """The reference's JSON -> tree conversion, refusing what couples entries to each other."""

    __slots__ = ()

    def declare_xmlns(self, key: str, value: Any) -> None:
        raise NotFieldwise(key)

    def node_text(self, text: Any) -> Any:
        if not isinstance(text, str):
            raise NotFieldwise("#text")
        return super().node_text(text)


class _Key:
    """What a top-level key means under a context, whatever its value."""

    __slots__ = (
        "dropped",
        "event_level",
        "name",
        "place",
        "quantities",
        "regrouped",
        "sub_order",
        "volatile",
    )

    def __init__(self, key: str, namespaces: dict[str, str]) -> None:
        # None: not a field of its own ("type" is the event type; comments are skipped)
        self.name = None if key in TREE_IGNORED or key == "type" else _tree_name(key, namespaces)
        name = self.name or ""
        self.place, self.sub_order = _ORDER.get(name, (-1, None))
        self.dropped = name in EVENT_IGNORED  # hashed neither in order nor with the rest
        # the correction regroups these whatever they hold; a key and its tree name
        # ("prefix:x" -> "{iri}x") end alike, so the key tells
        self.regrouped = key.endswith("List") or key == "childEPCs"
        self.volatile = is_time_field(name)  # new in every event: not worth remembering
        self.event_level = "eventTime" in name or "action" in name
        self.quantities = name in _QUANTITY_LISTS


class _Entry:
    """One top-level entry (key and value) under a context: its expansion, and its texts so far
    (a plain value's by its text after replacement, a structure's by the event vocabulary)."""

    __slots__ = ("expansion", "texts")

    def __init__(self, expansion: frozenset[str]) -> None:
        self.expansion = expansion
        self.texts: dict[Any, Texts] = {}


class _ContextMemo:
    """Per prepared context: keys and entries seen, bounded by clearing (then recomputed).

    Entries holding a structure are keyed by its ``repr``, exact for JSON values (it tells
    ``1`` from ``1.0`` and ``True``, and lists from tuples).
    """

    __slots__ = ("entries", "keys", "prepared", "quantity_expansions")

    def __init__(self, prepared: PreparedContext) -> None:
        self.prepared = prepared  # keeps the context alive, so its id stays unique while cached
        self.keys: dict[str, _Key] = {}
        self.entries: dict[tuple[str, ...], _Entry] = {}
        # by (key, field, string): a quantity list's classes and units repeat, its quantities not
        self.quantity_expansions: dict[tuple[str, str, str], frozenset[str]] = {}


_memos: dict[int, _ContextMemo] = {}


def _memo_for(prepared: PreparedContext) -> _ContextMemo:
    memo = _memos.get(id(prepared))
    if memo is None or memo.prepared is not prepared:
        if len(_memos) >= 64:
            _memos.clear()
        memo = _memos[id(prepared)] = _ContextMemo(prepared)
    return memo


def _bounded(table: dict[Any, Any], limit: int = _MEMO_LIMIT) -> dict[Any, Any]:
    if len(table) >= limit:
        table.clear()
    return table


def fieldwise_prehash(
    event: Mapping[str, Any], prepared: PreparedContext, expanded: frozenset[str] | None
) -> str | None:
    """The event's pre-hash, or None when it must be hashed as a whole (see module docstring).

    ``expanded`` is the kept expanded vocabulary of the whole document, or None to take the
    event's own (what the reference does for a one-event document).
    """
    try:
        return _prehash(event, prepared, expanded)
    except Exception:  # NotFieldwise, or an error the whole-event port will raise as its own
        return None


def _prehash(
    event: Mapping[str, Any], prepared: PreparedContext, expanded: frozenset[str] | None
) -> str:
    if "bizTransaction" in event or "source" in event or "destination" in event:
        raise NotFieldwise("unsorted event")
    memo = _memo_for(prepared)
    keys, entries, active = memo.keys, memo.entries, prepared.active
    found: set[str] | None = set() if expanded is None else None
    remembered: list[tuple[_Key, _Entry, Any, bool]] = []  # (key, entry, value, structured)
    direct: list[tuple[_Key, Any]] = []
    names: set[str] = set()
    event_level = False
    for key, value in event.items():
        meaning = keys.get(key)
        if meaning is None:
            meaning = _bounded(keys)[key] = _Key(key, prepared.namespaces)
        structured = meaning.regrouped or _holds_structure(value)
        memo_key: tuple[str, ...] | None = None
        if structured:
            memo_key = (key, repr(value), "repr")
        elif type(value) is str and not meaning.volatile:
            memo_key = (key, value)
        if memo_key is None:
            if found is not None:
                collect_expanded_field(key, value, active, found)
            if meaning.name is not None:
                direct.append((meaning, value))
        else:
            entry = entries.get(memo_key)
            if entry is None:
                if meaning.quantities and _plain_quantities(value):
                    expansion = _quantities_expansion(memo, key, value)
                else:
                    expansion = _expansion(key, value, active)
                entry = _bounded(entries)[memo_key] = _Entry(expansion)
            if found is not None and entry.expansion:
                found |= entry.expansion
            if meaning.name is not None:
                remembered.append((meaning, entry, value, structured))
        if meaning.name is not None:
            if meaning.name in names:
                raise NotFieldwise(meaning.name)
            names.add(meaning.name)
            if meaning.event_level and value != []:  # [] makes no node
                event_level = True
    if not event_level:
        raise NotFieldwise("no event-level field")

    vocabulary = frozenset(found) if found is not None else expanded
    assert vocabulary is not None
    builder = _FieldTreeBuilder(prepared.namespaces, bare_value_replacements(vocabulary))
    ordered: list[tuple[int, str]] = []
    remaining: list[str] = []
    for meaning, value in direct:
        for leaf in value if isinstance(value, list) else (value,):
            _add_leaf(meaning, builder.value_text(leaf), ordered, remaining)
    for meaning, entry, value, structured in remembered:
        if structured:
            texts = entry.texts.get(vocabulary)
            if texts is None:
                texts = _structured_texts(meaning, value, builder)
                _bounded(entry.texts, _TEXTS_LIMIT)[vocabulary] = texts
        else:
            text = builder.value_text(value)
            texts = entry.texts.get(text)
            if texts is None:
                texts = _bounded(entry.texts, _TEXTS_LIMIT)[text] = _leaf_texts(meaning, text)
        ordered.extend(texts[0])
        remaining.extend(texts[1])
    ordered.sort()
    remaining.sort()
    return (
        "eventType="
        + _event_type(event, builder)
        + "".join([text for _, text in ordered])
        + "".join(remaining)
    )


def _tree_name(key: str, namespaces: dict[str, str]) -> str:
    if key.startswith("@xmlns"):
        raise NotFieldwise(key)
    prefix, colon, rest = key.partition(":")
    name = namespaces[prefix] + rest if colon and prefix in namespaces else key
    if name in _RENAMED or name in UNSORTED_MARKERS:
        raise NotFieldwise(name)
    return name


def _event_type(event: Mapping[str, Any], builder: TreeBuilder) -> str:
    if "type" not in event:
        return ""
    name = event["type"]
    if not isinstance(name, str):
        raise NotFieldwise("type")  # the reference fails on it; let the whole-event port do so
    name = builder.replacements.get(name) or name
    if name in _RENAMED:
        raise NotFieldwise(name)
    return name


_PLAIN_TYPES = (str, int, float, bool, type(None))


def _is_container(value: Any) -> bool:
    """A list or a mapping; plain JSON values answer without the Mapping ABC's slower check."""
    return type(value) not in _PLAIN_TYPES and isinstance(value, list | Mapping)


def _holds_structure(value: Any) -> bool:
    """A mapping, or a list holding one or a list: hashed through the tree, not as leaves."""
    if type(value) in _PLAIN_TYPES:
        return False
    if isinstance(value, list):
        return any(_is_container(item) for item in value)
    return isinstance(value, Mapping)


def _expansion(key: str, value: Any, active: Any) -> frozenset[str]:
    found: set[str] = set()
    collect_expanded_field(key, value, active, found)
    return frozenset(found)


def _quantities_expansion(
    memo: _ContextMemo, key: str, value: list[dict[str, Any]]
) -> frozenset[str]:
    """The expansion of plain quantities, one field value at a time: the walk treats each element
    and each field on its own under the list's context, and only strings can expand."""
    found: set[str] = set()
    for element in value:
        for field, item in element.items():
            if isinstance(item, str):
                part = memo.quantity_expansions.get((key, field, item))
                if part is None:
                    part = _expansion(key, [{field: item}], memo.prepared.active)
                    _bounded(memo.quantity_expansions)[(key, field, item)] = part
                found |= part
    return frozenset(found)


def _add_leaf(
    meaning: _Key, text: str, ordered: list[tuple[int, str]], remaining: list[str]
) -> None:
    name = meaning.name
    assert name is not None
    if meaning.place >= 0:
        hashed = child_prehash((name, text, []), meaning.sub_order)
        if hashed:
            ordered.append((meaning.place, hashed))
    elif not meaning.dropped:
        remaining.append(remaining_text((name, text, [])))


def _plain_quantities(value: Any) -> bool:
    """A list of non-empty dicts holding plain values under epcClass, quantity or uom only."""
    if not isinstance(value, list):
        return False
    for element in value:
        if not isinstance(element, dict) or not element:
            return False
        for key, item in element.items():
            if key not in _QUANTITY_FIELDS or _is_container(item):
                return False
    return True


def _quantities_texts(meaning: _Key, value: list[dict[str, Any]], builder: TreeBuilder) -> Texts:
    """What the tree path makes of plain quantities, at a fraction of its cost: the correction
    names each element a ``quantityElement``; its fields are hashed in their PROP_ORDER order
    and consumed, then the elements (sorted) and the list, so nothing is left for the rest."""
    elements = []
    for element in value:
        fields = ""
        for key in _QUANTITY_FIELDS:
            if key in element:
                text = builder.value_text(element[key])
                text = canonical_value(text.strip()) if text else ""
                if text:
                    fields += key + "=" + text
        if fields:
            elements.append("quantityElement" + fields)
    if not elements:
        return (), ()
    elements.sort()
    assert meaning.name is not None
    return ((meaning.place, meaning.name + "".join(elements)),), ()


def _leaf_texts(meaning: _Key, text: str) -> Texts:
    ordered: list[tuple[int, str]] = []
    remaining: list[str] = []
    _add_leaf(meaning, text, ordered, remaining)
    return tuple(ordered), tuple(remaining)


def _structured_texts(meaning: _Key, value: Any, builder: TreeBuilder) -> Texts:
    """What a structured entry contributes, by the same steps the whole-event port takes."""
    if meaning.quantities and _plain_quantities(value):
        return _quantities_texts(meaning, value, builder)
    name = meaning.name
    if isinstance(value, list):
        children: list[Node] = [(name, e[1], e[2]) for e in builder.tree(value)[2]]
    elif isinstance(value, Mapping):
        child = builder.tree(value)
        children = [(name, child[1], child[2])]
    else:  # a plain value under a regrouped name
        children = [(name, builder.value_text(value), [])]
    children.sort()  # as in the event's sort: other entries' names differ, so never interleave
    ordered: list[tuple[int, str]] = []
    remaining: list[str] = []
    for node in correct_structure(("", "", children))[2]:
        place = _ORDER.get(node[0])
        if place is not None:
            text = child_prehash(node, place[1])
            if text:
                ordered.append((place[0], text))
            if not node[2]:
                continue  # hashed and consumed: not hashed again with the remaining fields
        if node[0] not in EVENT_IGNORED:
            remaining.append(remaining_text(node))
    return tuple(ordered), tuple(remaining)
