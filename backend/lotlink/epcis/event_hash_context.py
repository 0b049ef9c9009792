"""What the reference hasher takes from a document's JSON-LD ``@context``, without a JSON-LD engine.

The reference (``epcis-event-hash-generator`` 1.9.3, ``json_to_py.py``) uses the context twice:

1. **Bare CBV values.** It runs a full JSON-LD expansion of the document, keeps every expanded
   string that starts with ``https://ref.gs1.org/cbv`` or ``https://gs1.org/voc``, and then
   replaces *any* string value anywhere in the document (extension fields included) that is the
   suffix after a ``-`` or ``/`` of exactly one of them. So ``"shipping"`` becomes
   ``https://ref.gs1.org/cbv/BizStep-shipping`` wherever it appears, as long as some vocabulary
   field of the same document expands to that IRI.
2. **Prefixes.** Only prefixes declared in dict entries of a *list* ``@context`` count: keys
   ``p:x`` become ``{iri}x`` and values ``p:x`` become ``iriX``. A prefix that only the EPCIS
   context defines (``cbvmda:``, ``gs1:``) is left as written; a dict-form ``@context`` declares
   nothing.

Expansion is emulated for the only outputs that matter (1.): vocabulary- and id-typed values,
term and CURIE expansion with the EPCIS context's property-scoped contexts, and dropping of
undefined keys with their subtrees. The EPCIS context ships in ``schemas/``; other remote
contexts are not fetched (the reference would download them) and contribute nothing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

EPCIS_CONTEXT_URLS = frozenset(
    {
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        "https://gs1.github.io/EPCIS/epcis-context.jsonld",
    }
)
DEFAULT_CONTEXT: list[Any] = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]

_KEPT_PREFIXES = ("https://ref.gs1.org/cbv", "https://gs1.org/voc")
_GEN_DELIMS = frozenset(":/?#[]@")
_CONTEXT_KEYWORDS = frozenset({"@version", "@protected", "@base", "@language", "@direction"})

Ctx = dict[str, Any]
"""An active context: term name -> definition (a string IRI/keyword or a definition dict)."""


@dataclass(frozen=True, slots=True)
class PreparedContext:
    """A document ``@context`` digested once: the active context and the declared prefixes."""

    active: Ctx
    namespaces: dict[str, str]  # prefix -> "{iri}" exactly as the reference stores it


@cache
def _epcis_terms() -> Ctx:
    text = resources.files("lotlink.epcis").joinpath("schemas/epcis-context.jsonld").read_text()
    return dict(json.loads(text)["@context"])


def _merge(base: Ctx, local: Any) -> Ctx:
    merged = dict(base)
    for item in local if isinstance(local, list) else [local]:
        if isinstance(item, str):
            if item in EPCIS_CONTEXT_URLS:
                merged.update(_epcis_terms())
        elif isinstance(item, Mapping):
            merged.update((k, v) for k, v in item.items() if k not in _CONTEXT_KEYWORDS)
    return merged


_PREPARED_LIMIT = 256
_prepared: dict[str, PreparedContext] = {}


def prepare_context(context: Any) -> PreparedContext:
    """Digest a document ``@context`` (None means the bare EPCIS 2.0 context); cached.

    Keyed by ``repr``: for JSON values it is exact (strings quoted, ``1``, ``1.0`` and ``True``
    told apart, lists from tuples), so a context mutated between calls gets a new entry; and it
    costs a third of walking the context into a hashable copy. Every event of a document
    shares one context, so this runs once per event with the same answer.
    """
    key = repr(context)
    prepared = _prepared.get(key)
    if prepared is None:
        if len(_prepared) >= _PREPARED_LIMIT:
            _prepared.clear()
        # a private copy: the active context must not change if the caller's does
        prepared = _prepared[key] = _prepare(copy.deepcopy(context))
    return prepared


def _prepare(context: Any) -> PreparedContext:
    if context is None:
        context = DEFAULT_CONTEXT
    namespaces: dict[str, str] = {}
    # Mirrors json_to_py._collect_namespaces_from_jsonld_context: lists only, dict entries only
    # (string entries are URLs whose "prefix" could never match a key split at its first colon).
    if isinstance(context, list):
        for entry in context:
            if isinstance(entry, Mapping):
                namespaces.update(
                    (k, "{" + v + "}") for k, v in entry.items() if isinstance(v, str)
                )
    return PreparedContext(active=_merge({}, context), namespaces=namespaces)


def _is_prefix(definition: Any) -> bool:
    if isinstance(definition, str):
        return bool(definition) and definition[-1] in _GEN_DELIMS
    return isinstance(definition, Mapping) and definition.get("@prefix") is True


def _definition_iri(definition: Any) -> str | None:
    if isinstance(definition, str):
        return definition
    if isinstance(definition, Mapping):
        iri = definition.get("@id")
        return iri if isinstance(iri, str) else None
    return None


def _expand_iri(ctx: Ctx, value: str, *, vocab: bool) -> str:
    if vocab and value in ctx:
        iri = _definition_iri(ctx[value])
        if iri is not None and iri != value:
            return iri if iri.startswith("@") else _expand_iri(ctx, iri, vocab=False)
    prefix, colon, suffix = value.partition(":")
    if colon:
        if prefix == "_" or suffix.startswith("//"):
            return value
        definition = ctx.get(prefix)
        iri = _definition_iri(definition)
        if iri is not None and _is_prefix(definition):
            return iri + suffix
        return value
    if vocab and isinstance(ctx.get("@vocab"), str):
        return ctx["@vocab"] + value
    return value


_SCOPED_CACHE_LIMIT = 4096
_scoped_cache: dict[tuple[int, str], tuple[Ctx, Ctx]] = {}


def _scoped(ctx: Ctx, term: str, definition: Mapping[str, Any]) -> Ctx:
    # Memoised by the parent's identity; each entry keeps its parent alive, so an id is never
    # reused while its entry exists. Clearing is always safe, and bounds memory.
    key = (id(ctx), term)
    hit = _scoped_cache.get(key)
    if hit is None:
        if len(_scoped_cache) >= _SCOPED_CACHE_LIMIT:
            _scoped_cache.clear()
        hit = (ctx, _merge(ctx, definition["@context"]))
        _scoped_cache[key] = hit
    return hit[1]


_DROP = ("drop", None, None)
_IRI_COERCIONS = frozenset({"@vocab", "@id"})


def _is_literal_or_absolute(coercion: Any, value: str) -> bool:
    return coercion not in _IRI_COERCIONS or value.startswith(("https://", "http://"))


_plans: dict[tuple[int, str], tuple[Ctx, tuple[str, Ctx | None, Any]]] = {}


def _key_plan(ctx: Ctx, key: str) -> tuple[str, Ctx | None, Any]:
    """How expansion treats ``key`` under ``ctx``: (drop|keep, child context, value coercion)."""
    cache_key = (id(ctx), key)
    hit = _plans.get(cache_key)
    if hit is None:
        if len(_plans) >= _SCOPED_CACHE_LIMIT:
            _plans.clear()
        hit = (ctx, _plan(ctx, key))  # holds ctx alive: its id stays unique while cached
        _plans[cache_key] = hit
    return hit[1]


def _plan(ctx: Ctx, key: str) -> tuple[str, Ctx | None, Any]:
    if key == "@context":
        return _DROP
    definition = ctx.get(key)
    if definition == "@id" or definition == "@type":
        return ("keep", ctx, "@vocab" if definition == "@type" else "@id")
    if definition is None:
        if ":" not in key and not isinstance(ctx.get("@vocab"), str):
            return _DROP  # undefined term: expansion drops it and everything below it
        return ("keep", ctx, None)
    if isinstance(definition, Mapping):
        if "@id" in definition and definition["@id"] is None:
            return _DROP
        child = _scoped(ctx, key, definition) if "@context" in definition else ctx
        return ("keep", child, definition.get("@type"))
    return ("keep", ctx, None)


def _collect_value(value: Any, ctx: Ctx, coercion: Any, out: set[str]) -> None:
    if isinstance(value, str):
        if _is_literal_or_absolute(coercion, value):
            # literals (any datatype) stay as written; absolute http(s) IRIs expand to themselves
            if value.startswith(_KEPT_PREFIXES):
                out.add(value)
            return
        value = _expand_iri(ctx, value, vocab=coercion == "@vocab")
        if value.startswith(_KEPT_PREFIXES):
            out.add(value)
    elif isinstance(value, list):
        for item in value:
            _collect_value(item, ctx, coercion, out)
    elif isinstance(value, dict | Mapping):
        collect_expanded_values(value, ctx, out)


def collect_expanded_values(node: Mapping[str, Any], ctx: Ctx, out: set[str]) -> None:
    """Add to ``out`` the kept-prefix strings JSON-LD expansion of ``node`` would contain."""
    for key, value in node.items():
        collect_expanded_field(key, value, ctx, out)


def collect_expanded_field(key: str, value: Any, ctx: Ctx, out: set[str]) -> None:
    """What ``collect_expanded_values`` adds for one entry of a node: entries are independent."""
    action, child, coercion = _key_plan(ctx, key)
    if action == "keep":
        assert child is not None
        _collect_value(value, child, coercion, out)


def bare_value_replacements(expanded: AbstractSet[str]) -> dict[str, str | None]:
    """Cached ``_replacement_table``: events of one stream share a few vocabulary sets."""
    return _replacement_table(frozenset(expanded))


@lru_cache(maxsize=1024)
def _replacement_table(expanded: frozenset[str]) -> dict[str, str | None]:
    """Map each suffix after a ``-`` or ``/`` to its unique expanded IRI (None when ambiguous).

    Equivalent to the reference's ``x.endswith("-" + v) or x.endswith("/" + v)`` scan with "exactly
    one match" semantics, but a dict lookup per value instead of a scan.
    """
    table: dict[str, str | None] = {}
    for iri in expanded:
        seen: set[str] = set()
        for i, char in enumerate(iri):
            if char == "-" or char == "/":
                suffix = iri[i + 1 :]
                if suffix in seen:
                    continue
                seen.add(suffix)
                table[suffix] = iri if suffix not in table else None
    return table
