"""Checkpoints rebuilt from a batch manifest: the events of an anchored batch that this index
does not hold (`lotlink reindex` onto an empty database, a second index of the same chain) get
the rows the write path would have stored.

`check_event` takes nothing in a manifest entry on trust that it can check: the stored EPCIS
document re-hashes (CBV 2.0) to the digest, its eventID is that hash, its type and step give the
kind, the EIP-712 ``Checkpoint(eventHash, lotKey, kind)`` signature recovers to the signer, the
primary lot is the lot the event signs for, and the lot links agree with the lots the event
names and the previous events it signed (``lotlink:previous``). Whether the signer held a role
that fits the kind is asked of the chain (`lotlink.indexer.manifests.check_roles`).

`insert_events` writes them all or none: an event whose lot or previous event is not in the
index yet waits (the batch is retried), one that would fork a lot's chain is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hexbytes import HexBytes
from sqlalchemy import Connection, select, tuple_

from lotlink.anchoring.manifest import ManifestEvent, ManifestLot
from lotlink.chain.typed_data import Domain, recover_typed_address
from lotlink.epcis.build import PREVIOUS, kind_of_event, stored_event
from lotlink.epcis.event_hash import digest_to_hash_id, event_digest
from lotlink.indexer.sql import chunks, existing, table_of, upsert
from lotlink.models import (
    Actor,
    Checkpoint,
    CheckpointDocument,
    CheckpointLot,
    CheckpointStatus,
    Lot,
)
from lotlink.services.checkpoint_rows import distinct_lots, event_columns, touched_lots
from lotlink.services.checkpoints import documents_of


class EventRejected(Exception):
    """Raised by `check_event` when a manifest entry does not hold up; the message says why."""


@dataclass(frozen=True, slots=True)
class RebuiltEvent:
    """The rows of one checked event: its checkpoint, its lot links, the documents it cites."""

    digest: str
    checkpoint: dict[str, Any]
    links: tuple[ManifestLot, ...]
    documents: tuple[str, ...]


def _digest_of_id(value: Any) -> str:
    text = str(value)
    if not text.startswith("ni:///sha-256;"):
        raise EventRejected(f"{PREVIOUS} holds {text!r}, not an event hash ID")
    return "0x" + text.removeprefix("ni:///sha-256;").split("?")[0].lower()


def _links(event: ManifestEvent, body: dict[str, Any]) -> tuple[ManifestLot, ...]:
    """The event's lot links, as the manifest states them (version 2) or as the event alone
    determines them (version 1), checked against what the event names and signed."""
    named = distinct_lots(touched_lots(body))
    if not named:
        raise EventRejected("the event names no lot")
    if named[0].lot_key != event.lot_key.lower():
        raise EventRejected(
            f"it is signed for lot {event.lot_key}, the event's is {named[0].lot_key}"
        )
    raw_previous = body.get(PREVIOUS, [])
    if not isinstance(raw_previous, list):
        raise EventRejected(f"{PREVIOUS} is not a list")
    previous = {_digest_of_id(p) for p in raw_previous}
    if event.lots is None:  # version 1: derivable only when nothing can be ambiguous
        if len(previous) > 1 or (previous and len(named) > 1):
            raise EventRejected(
                "a version 1 manifest does not say which previous event each of its lots follows"
            )
        prev = next(iter(previous), None)
        return tuple(ManifestLot(n.lot_key, prev, n.quantity_milli, n.unit) for n in named)
    stated = {lot.lot_key.lower(): lot for lot in event.lots}
    if set(stated) != {n.lot_key for n in named} or len(stated) != len(event.lots):
        raise EventRejected("its lots are not the lots the event names")
    links = []
    for n in named:
        lot = stated[n.lot_key]
        if (lot.quantity_milli, lot.unit) != (n.quantity_milli, n.unit):
            raise EventRejected(f"lot {n.lot_key}: quantity or unit differs from the event's")
        prev = None if lot.previous is None else lot.previous.lower()
        if prev is not None and prev not in previous:
            raise EventRejected(f"lot {n.lot_key} follows {prev}, which the event does not name")
        links.append(ManifestLot(n.lot_key, prev, n.quantity_milli, n.unit))
    if {link.previous for link in links} - {None} != previous:
        raise EventRejected(f"the lots' previous events are not the event's {PREVIOUS}")
    return tuple(links)


def check_event(event: ManifestEvent, *, domain: Domain) -> RebuiltEvent:
    """The rows of a manifest entry, after checking it; EventRejected says what fails."""
    digest = event.digest.lower()
    try:
        body, context = stored_event(event.epcis_json)
        recomputed = "0x" + event_digest(body, context=context).hex()
    except Exception as error:  # any text a hasher cannot read is a rejection, not a crash
        raise EventRejected(f"its EPCIS document cannot be read or hashed: {error}") from None
    if recomputed != digest:
        raise EventRejected(f"its EPCIS event hashes to {recomputed}, not {digest}")
    event_id = digest_to_hash_id(bytes.fromhex(digest[2:]))
    if event.event_id != event_id or body.get("eventID") != event_id:
        raise EventRejected(f"its eventID is not {event_id}")
    try:
        kind = kind_of_event(body)
    except Exception as error:
        raise EventRejected(f"the event is no Lotlink checkpoint: {error}") from None
    if kind is not event.kind:
        raise EventRejected(f"it says {event.kind}, the event is {kind}")
    message = {"eventHash": HexBytes(digest), "lotKey": HexBytes(event.lot_key), "kind": kind.code}
    try:
        recovered = recover_typed_address("Checkpoint", message, domain, HexBytes(event.signature))
    except ValueError as error:  # wrong length, bad v, no key recovers
        raise EventRejected(f"its signature cannot be read: {error}") from None
    if recovered != event.signer.lower():
        raise EventRejected(f"its signature recovers to {recovered}, not the signer {event.signer}")
    try:
        links = _links(event, body)
        documents = tuple(sorted({"0x" + sha.lower() for sha in documents_of(body)}))
        columns = event_columns(body)
        record_time = datetime.fromisoformat(event.record_time) if event.record_time else None
    except EventRejected:
        raise
    except Exception as error:
        raise EventRejected(f"the event cannot be stored: {error}") from None
    checkpoint = {
        "digest": digest,
        "event_id": event_id,
        "epcis_json": event.epcis_json,
        "kind": kind.value,
        "primary_lot_key": event.lot_key.lower(),
        "signer_address": event.signer.lower(),
        "signature": event.signature.lower(),
        "status": CheckpointStatus.ANCHORED.value,
        "record_time": record_time,
        **columns,
    }
    return RebuiltEvent(digest=digest, checkpoint=checkpoint, links=links, documents=documents)


@dataclass(frozen=True, slots=True)
class Blocked:
    """Why `insert_events` wrote nothing: ``final`` when waiting cannot help."""

    reason: str
    final: bool = False


def insert_events(
    conn: Connection, events: Sequence[RebuiltEvent], *, recorded: datetime
) -> Blocked | None:
    """Store `events` (in manifest order, none already indexed) and move their lots' heads;
    or, when any of them cannot be stored yet or ever, store none and say why.

    `recorded` stands in for a version 1 manifest's missing record time (the anchor's block)."""
    if not events:
        return None
    lot, link = table_of(Lot), table_of(CheckpointLot)
    lot_keys = sorted({x.lot_key for e in events for x in e.links})
    known_lots = existing(conn, lot.c.lot_key, lot_keys)
    if missing := [k for k in lot_keys if k not in known_lots]:
        return Blocked(f"lot {missing[0]} is not registered on chain (yet)")
    pairs = [(x.lot_key, x.previous) for e in events for x in e.links]
    followed = _existing_pairs(conn, link.c.lot_key, link.c.prev_digest, pairs)
    firsts = existing(conn, link.c.lot_key, [k for k, prev in pairs if prev is None])
    given: set[tuple[str, str]] = set()
    claimed: set[tuple[str, str | None]] = set()
    for e in events:
        for x in e.links:
            pair = (x.lot_key, x.previous)
            forked = pair in followed or (x.previous is None and x.lot_key in firsts)
            if forked or pair in claimed:
                after = x.previous or "nothing (its first event)"
                return Blocked(
                    f"event {e.digest} forks lot {x.lot_key}: another event already follows "
                    f"{after}",
                    final=True,
                )
            claimed.add(pair)
        given |= {(x.lot_key, e.digest) for x in e.links}
    wanted = [(k, p) for k, p in pairs if p is not None and (k, p) not in given]
    have = _existing_pairs(conn, link.c.lot_key, link.c.checkpoint_digest, wanted)
    if waiting := [pair for pair in wanted if pair not in have]:
        lot_key, prev = waiting[0]
        return Blocked(f"lot {lot_key}'s previous event {prev} is not indexed yet")

    upsert(
        conn,
        table_of(Actor),
        [{"address": a, "custody": "self", "created_at": recorded}
         for a in sorted({e.checkpoint["signer_address"] for e in events})],
        keys=["address"],
    )  # fmt: skip
    upsert(
        conn,
        table_of(Checkpoint),
        [{**e.checkpoint, "record_time": e.checkpoint["record_time"] or recorded} for e in events],
        keys=["digest"],
    )
    # One event at a time: each link's previous must exist before it (a self-reference).
    for e in events:
        conn.execute(
            link.insert(),
            [
                {"lot_key": x.lot_key, "checkpoint_digest": e.digest, "prev_digest": x.previous,
                 "quantity_milli": x.quantity_milli, "unit": x.unit}
                for x in e.links
            ],
        )  # fmt: skip
    documents = [
        {"checkpoint_digest": e.digest, "document_sha256": sha}
        for e in events
        for sha in e.documents
    ]
    if documents:
        conn.execute(table_of(CheckpointDocument).insert(), documents)
    _move_heads(conn, events, lot_keys)
    return None


def _existing_pairs(
    conn: Connection, first: Any, second: Any, pairs: Sequence[tuple[str, str | None]]
) -> set[tuple[str, str]]:
    wanted = sorted({(a, b) for a, b in pairs if b is not None})
    found: set[tuple[str, str]] = set()
    for chunk in chunks(wanted, 400):
        rows = conn.execute(select(first, second).where(tuple_(first, second).in_(list(chunk))))
        found.update((str(a), str(b)) for a, b in rows)
    return found


def _move_heads(conn: Connection, events: Sequence[RebuiltEvent], lot_keys: list[str]) -> None:
    """Each lot's head follows its chain: an event becomes the head of a lot whose head it
    names as its previous (as the write path moves heads by compare-and-set)."""
    lot = table_of(Lot)
    heads: dict[str, str | None] = {}
    for chunk in chunks(lot_keys):
        rows = conn.execute(
            select(lot.c.lot_key, lot.c.head_digest).where(lot.c.lot_key.in_(chunk))
        )
        heads.update((str(key), head) for key, head in rows)
    before = dict(heads)
    for e in events:
        for x in e.links:
            if heads.get(x.lot_key) == x.previous:
                heads[x.lot_key] = e.digest
    for key, head in heads.items():
        if head != before[key]:
            conn.execute(lot.update().where(lot.c.lot_key == key).values(head_digest=head))
