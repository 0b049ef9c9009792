"""The reference hasher's pipeline on its ``(name, value, children)`` tree, ported quirk for quirk.

``epcis-event-hash-generator`` 1.9.3 turns an event into a tree (``json_to_py``), reshapes it like
the XML binding's (``json_xml_model_mismatch_correction``), then writes the pre-hash string
(``hash_generator``). These functions do the same on the same tree. ``event_hash_fields`` reuses
them field by field; what they do to a whole event is :func:`prehash_tree`.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from lotlink.epcis.event_hash_order import PROP_ORDER, PropOrder
from lotlink.epcis.event_hash_uris import normalise_key_uri

Node = tuple[Any, Any, list[Any]]
"""The reference's tree: (name, text value, children); children may also be pairs of nodes."""

TREE_IGNORED = frozenset({"#text", "rdfs:comment", "comment"})
UNSORTED_MARKERS = ("bizTransaction", "source", "destination")
EVENT_IGNORED = frozenset({"recordTime", "eventID", "type", "errorDeclaration"})
RENAMED_LEAVES = frozenset(
    {"inputEPC", "outputEPC", "inputQuantity", "outputQuantity", "childQuantity"}
)
_PAIR_LISTS = frozenset({"sourceList", "destinationList", "bizTransactionList"})


# --- JSON -> tree (json_to_py) -------------------------------------------------------------


class TreeBuilder:
    """``json_to_py``'s conversion, under a document's prefixes and bare-value replacements."""

    __slots__ = ("_shared", "namespaces", "replacements")

    def __init__(self, namespaces: dict[str, str], replacements: dict[str, str | None]) -> None:
        self._shared = namespaces
        self.namespaces = namespaces
        self.replacements = replacements

    def declare_xmlns(self, key: str, value: Any) -> None:
        # JSON converted from XML may declare namespaces inline; the reference registers them
        # (globally, for good); here they last for the rest of this event only.
        if self.namespaces is self._shared:
            self.namespaces = dict(self._shared)
        self.namespaces[key[7:]] = "{" + str(value) + "}"

    def node_text(self, text: Any) -> Any:
        """The text of a node converted from XML (``#text``), bare value replaced."""
        if isinstance(text, str) and text in self.replacements:
            return self.replacements[text] or text
        return text

    def value_text(self, value: Any) -> str:
        if isinstance(value, str):
            if value in self.replacements:
                value = self.replacements[value] or value
            if ":" in value:
                prefix, _, rest = value.partition(":")
                if prefix in self.namespaces:
                    return self.namespaces[prefix].replace("{", "").replace("}", "") + rest
            return value
        return str(value)

    def key_text(self, key: str) -> str:
        prefix, colon, rest = key.partition(":")
        if colon and prefix in self.namespaces:
            return self.namespaces[prefix] + rest
        return key

    def tree(self, obj: Any) -> Node:
        if isinstance(obj, list):
            value_text = self.value_text
            node: Node = (
                "",
                "",
                [("", value_text(i), []) if isinstance(i, str) else self.tree(i) for i in obj],
            )
        elif isinstance(obj, dict | Mapping):
            name = text = ""
            if "type" in obj:  # an absent type must not pick up the replacement for ""
                name = obj["type"]
                if isinstance(name, str) and name in self.replacements:
                    name = self.replacements[name] or name
            if "#text" in obj:
                text = self.node_text(obj["#text"])
            children: list[Any] = []
            append = children.append
            for key, value in obj.items():
                if key in TREE_IGNORED:
                    continue
                if ":" in key:
                    if key.startswith("@xmlns"):
                        self.declare_xmlns(key, value)
                        name = self.key_text(name) if isinstance(name, str) else name
                        continue
                    key = self.key_text(key)
                if isinstance(value, str | int | float) or value is None:
                    append((key, self.value_text(value), []))
                elif isinstance(value, list):
                    children.extend((key, e[1], e[2]) for e in self.tree(value)[2])
                else:
                    child = self.tree(value)
                    append((key, child[1], child[2]))
            node = (name, text, children)
        else:
            return ("", self.value_text(obj), [])
        if not ("bizTransaction" in obj or "source" in obj or "destination" in obj):
            node[2].sort()
        return node


def correct_structure(node: Node) -> Node:
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
        e if e[0] in _PAIR_LISTS or not (e[2] or e[0] in RENAMED_LEAVES) else correct_structure(e)
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


def prehash_tree(event: Mapping[str, Any], builder: TreeBuilder) -> str:
    """The pre-hash string of one event, exactly as the reference builds it."""
    tree = correct_structure(builder.tree(event))
    return (
        "eventType="
        + tree[0]
        + prehash_in_order(tree[2], PROP_ORDER)
        + prehash_remaining([c for c in tree[2] if c[0] not in EVENT_IGNORED])
    )


def prehash_in_order(child_list: list[Any], child_order: PropOrder) -> str:
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
            text = child_prehash(child, sub_order)
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
        pre_hash += prehash_remaining(user_extensions)
    return pre_hash


_ORDER_NAMES: dict[int, frozenset[Any]] = {}


def _order_names(child_order: PropOrder) -> frozenset[Any]:
    # Orders are the static PROP_ORDER lists, so their identity is a stable key.
    names = _ORDER_NAMES.get(id(child_order))
    if names is None:
        names = _ORDER_NAMES[id(child_order)] = frozenset(name for name, _ in child_order)
    return names


def child_prehash(child: Any, sub_order: PropOrder | None) -> str:
    """One ordered child's text (``name=value`` then its ordered children); may consume them."""
    grand_child_text = prehash_in_order(child[2], sub_order) if sub_order else ""
    text = ""
    if child[1]:
        text = child[1].strip()
        text = canonical_timestamp(text) if is_time_field(child[0]) else canonical_value(text)
        if text:
            text = "=" + text
    if text or grand_child_text:
        return child[0] + text + grand_child_text
    return ""


@lru_cache(maxsize=4096)
def is_time_field(name: str) -> bool:
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


def prehash_remaining(children: Any) -> str:
    """Port of ``_generic_child_list_to_prehash_string``: everything not in PROP_ORDER."""
    values = []
    for child in children:
        if isinstance(child, tuple) and len(child) == 2 and isinstance(child[0], tuple):
            values.append(prehash_remaining(child))
        else:
            values.append(remaining_text(child))
    if len(children) > 1 and not any(c[0] in UNSORTED_MARKERS for c in children):
        values.sort()
    return "".join(values)


def remaining_text(child: Node) -> str:
    """One node's text among the remaining fields: ``name=value`` then its children, sorted."""
    text = child[1].strip()
    if text:
        text = "=" + canonical_value(text)
    return child[0] + text + prehash_remaining(child[2])


# --- values ----------------------------------------------------------------------------------

_CBV_URN_REPLACEMENTS = (
    ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
    ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
    ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
    ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
    ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
)


@lru_cache(maxsize=65536)
def canonical_value(text: str) -> str:
    """CBV URNs -> web vocabulary, numbers without trailing zeros, GS1 keys -> canonical DL."""
    if "urn:epcglobal:cbv:" in text:
        for old, new in _CBV_URN_REPLACEMENTS:
            text = text.replace(old, new)
    # float() then int(): nan raises ValueError (text kept); inf raises OverflowError, as upstream.
    # try, not contextlib.suppress: entering and leaving it costs more than most conversions.
    try:
        number = float(text)
        text = str(int(number) if int(number) == number else number)
    except ValueError:
        pass
    return normalise_key_uri(text) or text


def canonical_timestamp(text: str) -> str:
    """UTC at millisecond precision, ``Z`` suffix; unparsable text is hashed as written.

    Rounds with ``round(us, -3)`` (half to even) like the reference; ``.9995``-style values that
    round up to a whole second make it raise (ValueError), and so does this.
    """
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return text
    moment = moment.astimezone(datetime.UTC)
    if moment.microsecond % 1000:
        moment = moment.replace(microsecond=round(moment.microsecond, -3))
    # What isoformat(timespec="milliseconds") writes before its "+00:00", at a fifth of its cost
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031 (fixed-width fields)
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond // 1000,
    )
