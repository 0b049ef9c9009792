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

Under those conditions the pre-hash is assembled from per-entry texts, and an entry that holds
a structure (``quantityList``, ``readPoint``, ``sensorElementList``...) is hashed once per
distinct value, context and replacement set: a producer's events repeat them, while the
entries new in every event (``eventTime``, ``lotlink:previous``) are plain values, cheap to
hash. Otherwise, or if anything raises, :func:`fieldwise_prehash` returns None and the caller
runs the whole-event port (``event_hash_tree.prehash_tree``), which decides, errors included.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
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
    child_prehash,
    correct_structure,
    remaining_text,
)

_ORDER: dict[str, tuple[int, PropOrder | None]] = {
    name: (index, sub_order) for index, (name, sub_order) in enumerate(PROP_ORDER)
}
# Event types and entry names the structure correction renames at the event level.
_RENAMED = RENAMED_LEAVES | {"quantity"}
_MEMO_LIMIT = 8192

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


class _ContextMemo:
    """Per prepared context: entry names, expansions, and the texts of structured entries.

    Structured values are keyed by ``repr``, exact for JSON values (it tells ``1`` from ``1.0``
    and ``True``, and lists from tuples). Bounded by clearing: a cleared entry is recomputed.
    """

    __slots__ = ("expansions", "names", "plain_expansions", "prepared", "texts")

    def __init__(self, prepared: PreparedContext) -> None:
        self.prepared = prepared  # keeps the context alive, so its id stays unique while cached
        self.names: dict[str, str] = {}
        self.expansions: dict[tuple[str, str], frozenset[str]] = {}  # by (key, repr)
        self.plain_expansions: dict[tuple[str, str], frozenset[str]] = {}  # by (key, string)
        self.texts: dict[tuple[frozenset[str], str, str], Texts] = {}


_memos: dict[int, _ContextMemo] = {}


def _memo_for(prepared: PreparedContext) -> _ContextMemo:
    memo = _memos.get(id(prepared))
    if memo is None or memo.prepared is not prepared:
        if len(_memos) >= 64:
            _memos.clear()
        memo = _memos[id(prepared)] = _ContextMemo(prepared)
    return memo


def _bounded(table: dict[Any, Any]) -> dict[Any, Any]:
    if len(table) >= _MEMO_LIMIT:
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
    active = prepared.active
    # (key, tree name, value, repr for a structured value or None for plain ones)
    entries: list[tuple[str, str, Any, str | None]] = []
    names: set[str] = set()
    event_level = False
    found: set[str] | None = set() if expanded is None else None
    for key, value in event.items():
        shape = None if _is_plain(key, value) else repr(value)
        if found is not None:
            if shape is not None:
                found |= _expansion(memo.expansions, key, shape, value, active)
            elif type(value) is str:  # vocabulary values repeat; keyed exactly, so str only
                found |= _expansion(memo.plain_expansions, key, value, value, active)
            else:
                collect_expanded_field(key, value, active, found)
        if key in TREE_IGNORED or key == "type":
            continue  # "type" is hashed as the event type; its child is never hashed
        name = memo.names.get(key)
        if name is None:
            name = _bounded(memo.names)[key] = _tree_name(key, prepared.namespaces)
        if name in names:
            raise NotFieldwise(name)
        names.add(name)
        entries.append((key, name, value, shape))
        if ("eventTime" in name or "action" in name) and value != []:  # [] makes no node
            event_level = True
    if not event_level:
        raise NotFieldwise("no event-level field")

    vocabulary = frozenset(found) if found is not None else expanded
    assert vocabulary is not None
    builder = _FieldTreeBuilder(prepared.namespaces, bare_value_replacements(vocabulary))
    ordered: list[tuple[int, str]] = []
    remaining: list[str] = []
    for key, name, value, shape in entries:
        if shape is None:
            leaves = value if isinstance(value, list) else (value,)
            for leaf in leaves:
                _add_leaf(name, builder.value_text(leaf), ordered, remaining)
            continue
        texts_key = (vocabulary, key, shape)
        texts = memo.texts.get(texts_key)
        if texts is None:
            texts = _bounded(memo.texts)[texts_key] = _structured_texts(name, value, builder)
        ordered.extend(texts[0])
        remaining.extend(texts[1])
    ordered.sort()
    remaining.sort()
    return (
        "eventType="
        + _event_type(event, builder)
        + "".join(t for _, t in ordered)
        + "".join(remaining)
    )


def _is_plain(key: str, value: Any) -> bool:
    """A leaf, or a list of leaves, under a name the correction leaves alone: hashed directly.

    The correction regroups ``...List`` and ``childEPCs`` entries whatever they hold; a key and
    its tree name (``prefix:x`` -> ``{iri}x``) end alike, so the key tells.
    """
    if key.endswith("List") or key == "childEPCs":
        return False
    if isinstance(value, str):
        return True
    if isinstance(value, list):
        return not any(isinstance(item, list | Mapping) for item in value)
    return not isinstance(value, Mapping)


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


def _expansion(
    table: dict[tuple[str, str], frozenset[str]], key: str, shape: str, value: Any, active: Any
) -> frozenset[str]:
    found = table.get((key, shape))
    if found is None:
        out: set[str] = set()
        collect_expanded_field(key, value, active, out)
        found = _bounded(table)[(key, shape)] = frozenset(out)
    return found


def _add_leaf(name: str, text: str, ordered: list[tuple[int, str]], remaining: list[str]) -> None:
    place = _ORDER.get(name)
    if place is None:
        if name not in EVENT_IGNORED:
            remaining.append(_remaining_leaf(name, text))
    else:
        hashed = _ordered_leaf(name, text)
        if hashed:
            ordered.append((place[0], hashed))


@lru_cache(maxsize=16384)
def _ordered_leaf(name: str, text: str) -> str:
    return child_prehash((name, text, []), _ORDER[name][1])


@lru_cache(maxsize=16384)
def _remaining_leaf(name: str, text: str) -> str:
    return remaining_text((name, text, []))


def _structured_texts(name: str, value: Any, builder: TreeBuilder) -> Texts:
    """What a structured entry contributes, by the same steps the whole-event port takes."""
    if isinstance(value, list):
        children: list[Node] = [(name, e[1], e[2]) for e in builder.tree(value)[2]]
    else:
        child = builder.tree(value)
        children = [(name, child[1], child[2])]
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
