"""Handlers for actors, lots, certificates and recalls (anchors are in `anchors`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, tuple_, update

from lotlink.chain.decode import ChainLog
from lotlink.indexer.registry import (
    PROVENANCE,
    ApplyContext,
    block_time,
    handles,
    provenance,
)
from lotlink.indexer.sql import chunks, table_of, update_by_key, upsert
from lotlink.models import (
    Actor,
    ActorRole,
    Certificate,
    LineageEdge,
    Lot,
    Recall,
    RecallLot,
    RecallStatus,
)
from lotlink.models.recall import closing_hash
from lotlink.models.types import ZERO_HASH
from lotlink.vocabulary import CertificateKind, Role, SubjectKind

# Past this instant a certificate's end is stored as "no end" (UtcDateTime cannot hold it).
_LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()


def _gln(value: int) -> str | None:
    return f"{value:013d}" if value else None


def _hash_or_none(value: str) -> str | None:
    return None if value == ZERO_HASH else value


def _ensure_actors(ctx: ApplyContext, firsts: dict[str, ChainLog]) -> None:
    """Actor rows for accounts the chain names, keyed by address, never overwriting one the
    write path created (its name, custody and keystore stay)."""
    rows = [
        {"address": address, "custody": "self", "created_at": block_time(log)}
        for address, log in firsts.items()
    ]
    upsert(ctx.conn, table_of(Actor), rows, keys=["address"])


@handles("RoleGranted", "RoleRevoked", "ActorRegistered", "ActorProfileUpdated")
def apply_actors(ctx: ApplyContext, logs: list[ChainLog]) -> None:
    """Roles from OpenZeppelin's RoleGranted/RoleRevoked (ActorRegistered grants through them);
    profiles (GLN, profile hash) from ActorRegistered and ActorProfileUpdated, last one wins."""
    firsts: dict[str, ChainLog] = {}
    profiles: dict[str, ChainLog] = {}
    roles: dict[tuple[str, str], ChainLog | None] = {}
    for log in logs:
        account = log.args["account"]
        firsts.setdefault(account, log)
        if log.name in ("ActorRegistered", "ActorProfileUpdated"):
            profiles[account] = log
            continue
        try:
            role = Role.from_id(bytes.fromhex(log.args["role"][2:]))
        except ValueError:
            continue  # a role id Lotlink does not use (granted through AccessControl directly)
        roles[(account, role.value)] = log if log.name == "RoleGranted" else None
    _ensure_actors(ctx, firsts)
    upsert(
        ctx.conn,
        table_of(Actor),
        [
            {
                "address": account,
                "custody": "self",
                "created_at": block_time(log),
                "gln": _gln(log.args["gln"]),
                "profile_hash": _hash_or_none(log.args["profileHash"]),
                "profile_block": log.block_number,
            }
            for account, log in profiles.items()
        ],
        keys=["address"],
        update_columns=["gln", "profile_hash", "profile_block"],
    )
    granted = [
        {"actor_address": account, "role": role, **provenance(log)}
        for (account, role), log in roles.items()
        if log is not None
    ]
    upsert(
        ctx.conn,
        table_of(ActorRole),
        granted,
        keys=["actor_address", "role"],
        update_columns=PROVENANCE,
    )
    revoked = [key for key, log in roles.items() if log is None]
    table = table_of(ActorRole)
    for chunk in chunks(revoked):
        ctx.conn.execute(
            delete(table).where(tuple_(table.c.actor_address, table.c.role).in_(list(chunk)))
        )


@handles("LotRegistered")
def apply_lots(ctx: ApplyContext, logs: list[ChainLog]) -> None:
    """Lots keyed by lot key, and their lineage edges with the quantity of each parent."""
    _ensure_actors(ctx, {log.args["owner"]: log for log in reversed(logs)})
    lots: dict[str, dict[str, Any]] = {}
    edges: dict[tuple[str, str], dict[str, Any]] = {}
    for log in logs:
        gtin, lot_code, parents, quantities, quantity, unit, details = log.args["lot"]
        key = log.args["lotKey"]
        lots[key] = {
            "lot_key": key,
            "gtin": gtin,
            "lot_code": lot_code,
            "quantity_milli": quantity,
            "unit": unit,
            "owner_address": log.args["owner"],
            "details_hash": _hash_or_none(details),
            "created_at": block_time(log),
            **provenance(log),
        }
        for parent, consumed in zip(parents, quantities, strict=True):
            edges[(key, parent)] = {
                "child_key": key,
                "parent_key": parent,
                "quantity_milli": consumed,
            }
    upsert(
        ctx.conn,
        table_of(Lot),
        list(lots.values()),
        keys=["lot_key"],
        update_columns=[
            "gtin", "lot_code", "quantity_milli", "unit", "owner_address", "details_hash",
            *PROVENANCE,
        ],
    )  # fmt: skip
    if not edges:
        return
    units: dict[str, str] = {}
    parent_keys = list({edge["parent_key"] for edge in edges.values()})
    table = table_of(Lot)
    for chunk in chunks(parent_keys):
        for lot_key, unit in ctx.conn.execute(
            select(table.c.lot_key, table.c.unit).where(table.c.lot_key.in_(chunk))
        ):
            units[lot_key] = unit
    rows = [{**edge, "unit": units[edge["parent_key"]]} for edge in edges.values()]
    upsert(
        ctx.conn,
        table_of(LineageEdge),
        rows,
        keys=["child_key", "parent_key"],
        update_columns=["quantity_milli", "unit"],
    )


@handles("CertificateIssued", "CertificateRevoked")
def apply_certificates(ctx: ApplyContext, logs: list[ChainLog]) -> None:
    issued: dict[str, dict[str, Any]] = {}
    revoked: list[dict[str, Any]] = []
    for log in logs:
        a = log.args
        if log.name == "CertificateIssued":
            until = a["validUntil"]
            issued[a["certificateId"]] = {
                "certificate_id": a["certificateId"],
                "issuer_address": a["issuer"],
                "subject_kind": SubjectKind.from_code(a["subjectKind"]).value,
                "subject": a["subject"],
                "kind": CertificateKind.from_code(a["kind"]).value,
                "document_hash": a["documentHash"],
                "valid_from": datetime.fromtimestamp(min(a["validFrom"], _LATEST), UTC),
                "valid_until": None
                if until == 0 or until > _LATEST
                else datetime.fromtimestamp(until, UTC),
                "revoked": False,
                **provenance(log),
            }
        else:
            revoked.append(
                {
                    "certificate_id": a["certificateId"],
                    "revoked": True,
                    "revoked_by": a["revoker"],
                    "revoked_reason_hash": a["reasonHash"],
                    "revoked_block": log.block_number,
                    "revoked_tx_hash": log.tx_hash,
                    "revoked_at": None
                    if log.timestamp is None
                    else datetime.fromtimestamp(log.timestamp, UTC),
                }
            )
    columns = [c for c in next(iter(issued.values()), {}) if c not in ("certificate_id", "revoked")]
    upsert(
        ctx.conn,
        table_of(Certificate),
        list(issued.values()),
        keys=["certificate_id"],
        update_columns=columns,
    )
    update_by_key(ctx.conn, table_of(Certificate), revoked, key="certificate_id")


@handles("RecallIssued", "LotRecalled", "RecallUpdated", "RecallClosed")
def apply_recalls(ctx: ApplyContext, logs: list[ChainLog]) -> None:
    """Recalls and the lots they name; updates and closures in chain order (last wins).

    Re-applying a RecallIssued resets class and reason to the issued ones: after a reorg,
    a recall's history up to the common ancestor is replayed onto it."""
    issued: dict[int, dict[str, Any]] = {}
    named: dict[tuple[int, str], dict[str, Any]] = {}
    updates: list[dict[str, Any]] = []
    closures: list[dict[str, Any]] = []
    for log in logs:
        a = log.args
        if log.name == "RecallIssued":
            issued[a["recallId"]] = {
                "recall_id": a["recallId"],
                "issuer_address": a["issuer"],
                "recall_class": a["recallClass"],
                "reason_hash": a["reasonHash"],
                "voluntary": a["voluntary"],
                "issued_at": block_time(log),
                "status": RecallStatus.ACTIVE.value,
                **provenance(log),
            }
        elif log.name == "LotRecalled":
            named[(a["recallId"], a["lotKey"])] = {
                "recall_id": a["recallId"],
                "lot_key": a["lotKey"],
                **provenance(log),
            }
        elif log.name == "RecallUpdated":
            updates.append(
                {
                    "recall_id": a["recallId"],
                    "recall_class": a["recallClass"],
                    "reason_hash": a["reasonHash"],
                    "updated_by": a["updater"],
                    "updated_block": log.block_number,
                    "updated_at": block_time(log),
                }
            )
        else:
            closures.append(
                {
                    "recall_id": a["recallId"],
                    "status": RecallStatus.CLOSED.value,
                    "closed_by": a["closer"],
                    "closed_reason_hash": a["reasonHash"],
                    "closed_block": log.block_number,
                    "closed_at": block_time(log),
                }
            )
    upsert(
        ctx.conn,
        table_of(Recall),
        list(issued.values()),
        keys=["recall_id"],
        update_columns=[
            "issuer_address", "recall_class", "reason_hash", "voluntary", "issued_at",
            *PROVENANCE,
        ],
    )  # fmt: skip
    upsert(
        ctx.conn,
        table_of(RecallLot),
        list(named.values()),
        keys=["recall_id", "lot_key"],
        update_columns=PROVENANCE,
    )
    update_by_key(ctx.conn, table_of(Recall), updates, key="recall_id")
    update_by_key(ctx.conn, table_of(Recall), closures, key="recall_id")
    _forget_other_closing_words(ctx, {c["recall_id"]: c["closed_reason_hash"] for c in closures})


def _forget_other_closing_words(ctx: ApplyContext, closed: dict[int, str]) -> None:
    """The chain gives a closure only the hash of its words; the words come from the write path
    (or stay from a closure that a reorg undid). Words that do not hash to the closure now
    applied belong to another one, so they go. Compare-and-clear, not a read-then-write, so
    words the write path stores meanwhile are never overwritten."""
    recall = table_of(Recall)
    stale: list[dict[str, Any]] = []
    for ids in chunks(list(closed)):
        kept = ctx.conn.execute(
            select(recall.c.recall_id, recall.c.closed_reason).where(
                recall.c.recall_id.in_(ids), recall.c.closed_reason.is_not(None)
            )
        )
        stale += [
            {"k_id": recall_id, "k_words": words}
            for recall_id, words in kept
            if closing_hash(words) != closed[recall_id]
        ]
    if stale:
        ctx.conn.execute(
            update(recall)
            .where(
                recall.c.recall_id == bindparam("k_id"),
                recall.c.closed_reason == bindparam("k_words"),
            )
            .values(closed_reason=None),
            stale,
        )
