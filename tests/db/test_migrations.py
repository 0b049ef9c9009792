"""Migrations: from nothing to head on each backend, idempotent, and in step with the models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from lotlink.db import (
    current_revision,
    head_revision,
    make_alembic_config,
    make_engine,
    require_current_schema,
    upgrade_database,
)
from lotlink.db.migrate import migrating
from lotlink.errors import DatabaseError, DatabaseNotMigratedError
from lotlink.models import Base, Batch, ProblemReport

EXPECTED_TABLES = {
    "actor",
    "actor_role",
    "api_token",
    "lot",
    "lineage_edge",
    "checkpoint",
    "checkpoint_lot",
    "checkpoint_document",
    "document",
    "certificate",
    "recall",
    "recall_lot",
    "batch",
    "batch_manifest",
    "anchor_transaction",
    "outbox",
    "anchor_receipt",
    "indexer_cursor",
    "indexed_block",
    "applied_log",
    "problem_report",
    "report_response",
    "alert",
    "webhook_endpoint",
    "webhook_delivery",
    "serial_scan",
    "copy_flag",
    "idempotency_key",
}


def test_upgrade_from_empty_creates_every_table(empty_database_url: str) -> None:
    assert current_revision(empty_database_url) is None

    assert upgrade_database(empty_database_url) == head_revision()

    engine = make_engine(empty_database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        require_current_schema(engine)
    finally:
        engine.dispose()
    assert tables == EXPECTED_TABLES | {"alembic_version"}
    assert set(Base.metadata.tables) == EXPECTED_TABLES


def test_upgrade_is_idempotent(database_url: str) -> None:
    assert upgrade_database(database_url) == head_revision()
    assert current_revision(database_url) == head_revision()


def test_models_and_migrations_do_not_diverge(engine: Engine) -> None:
    """Autogenerate against the migrated database finds nothing to do."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_back(database_url: str) -> None:
    config = make_alembic_config(database_url)
    command.downgrade(config, "base")
    engine = make_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    assert current_revision(database_url) is None
    assert upgrade_database(database_url) == head_revision()


def test_unmigrated_database_is_refused_at_start(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        with pytest.raises(DatabaseNotMigratedError, match="never migrated"):
            require_current_schema(engine)
    finally:
        engine.dispose()


def test_unreachable_database_is_one_line_error() -> None:
    with pytest.raises(DatabaseError, match="connection") as caught:
        upgrade_database("postgresql://lotlink:secret@127.0.0.1:1/nowhere")
    assert "secret" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_reports_stored_before_deadlines_get_the_default_ones(empty_database_url: str) -> None:
    """0004 gives existing reports deadlines 12 and 48 hours after they arrived."""
    command.upgrade(make_alembic_config(empty_database_url), "0003")
    engine = make_engine(empty_database_url)
    arrived = "2026-03-29 00:30:00.250000"  # the night Europe's clocks go forward; UTC regardless
    try:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO actor (address, custody, created_at) VALUES (:a, 'self', :t)"),
                {"a": "0x" + "11" * 20, "t": arrived},
            )
            connection.execute(
                text(
                    "INSERT INTO lot (lot_key, gtin, lot_code, quantity_milli, unit,"
                    " owner_address, created_at) VALUES (:k, '09521000000010', 'L1', 1000,"
                    " 'H87', :a, :t)"
                ),
                {"k": "0x" + "22" * 32, "a": "0x" + "11" * 20, "t": arrived},
            )
            connection.execute(
                text(
                    "INSERT INTO problem_report (reference, lot_key, category, description,"
                    " created_at) VALUES ('PR-OLD', :k, 'other', 'lid was loose', :t)"
                ),
                {"k": "0x" + "22" * 32, "t": arrived},
            )
        upgrade_database(empty_database_url)
        with Session(engine) as session:
            report = session.scalars(select(ProblemReport)).one()
    finally:
        engine.dispose()
    received = datetime(2026, 3, 29, 0, 30, 0, 250000, tzinfo=UTC)
    assert report.received_at == received
    assert report.first_response_due_at == received + timedelta(hours=12)
    assert report.resolution_due_at == received + timedelta(hours=48)
    assert report.first_response_at is None and report.resolved_at is None


ROOT, TX_HASH, SENT = "0x" + "ab" * 32, "0x" + "cd" * 32, "2026-11-01 00:00:00"


def _store_sent_batch(engine: Engine, **columns: object) -> None:
    """A batch sent in transaction TX_HASH, with `columns` beside those every revision since
    0005 has."""
    batch = {
        "root": ROOT, "manifest_hash": ROOT, "manifest_status": "verified", "event_count": 1,
        "status": "sent", "attempts": 1, "created_at": SENT, **columns,
    }  # fmt: skip
    with engine.begin() as connection:
        connection.execute(
            text(f"INSERT INTO batch ({', '.join(batch)}) VALUES (:{', :'.join(batch)})"), batch
        )
        connection.execute(
            text(
                "INSERT INTO anchor_transaction (tx_hash, batch_root, nonce, sent_at)"
                " VALUES (:h, :r, 7, :t)"
            ),
            {"h": TX_HASH, "r": ROOT, "t": SENT},
        )


def test_stored_manifests_move_to_their_table_and_back_with_nothing_lost(
    empty_database_url: str,
) -> None:
    """0008 moves each batch's manifest out of its row, keeping every row that refers to the
    batch."""
    config = make_alembic_config(empty_database_url)
    command.upgrade(config, "0007")
    root, tx_hash = ROOT, TX_HASH
    manifest = '{"format":"lotlink-batch-manifest","events":["é"]}'
    engine = make_engine(empty_database_url)
    try:
        _store_sent_batch(engine, manifest=manifest, manifest_attempts=0)
        upgrade_database(empty_database_url)
        with engine.connect() as connection:
            moved = connection.execute(text("SELECT root, content FROM batch_manifest")).all()
            kept = connection.execute(text("SELECT tx_hash FROM anchor_transaction")).all()
        assert [tuple(row) for row in moved] == [(root, manifest)]
        assert [tuple(row) for row in kept] == [(tx_hash,)]
        with Session(engine) as session:
            assert session.scalars(select(Batch)).one().manifest == manifest

        command.downgrade(config, "0007")
        with engine.connect() as connection:
            back = connection.execute(text("SELECT root, manifest FROM batch")).all()
            kept = connection.execute(text("SELECT tx_hash FROM anchor_transaction")).all()
        assert [tuple(row) for row in back] == [(root, manifest)]
        assert [tuple(row) for row in kept] == [(tx_hash,)]
    finally:
        engine.dispose()


def test_upgrading_through_a_table_copy_keeps_the_rows_that_refer_to_the_table(
    empty_database_url: str,
) -> None:
    """0006 alters `batch` on SQLite by copying it and dropping the old table. With foreign keys
    enforced, that drop deletes every row referring to a batch through ON DELETE CASCADE (the
    transactions it sent); migrations run with them off, and checked before they commit."""
    config = make_alembic_config(empty_database_url)
    command.upgrade(config, "0005")
    engine = make_engine(empty_database_url)
    try:
        _store_sent_batch(engine)
        upgrade_database(empty_database_url)
        with engine.connect() as connection:
            kept = connection.execute(text("SELECT tx_hash, batch_root FROM anchor_transaction"))
            assert [tuple(row) for row in kept] == [(TX_HASH, ROOT)]
    finally:
        engine.dispose()


def test_a_migration_that_breaks_a_foreign_key_is_refused_and_changes_nothing(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'lotlink.db'}"
    upgrade_database(url)
    engine = make_engine(url, poolclass=NullPool)
    orphan = (
        "INSERT INTO anchor_transaction (tx_hash, batch_root, nonce, sent_at)"
        " VALUES (:h, :r, 1, '2026-11-01 00:00:00')"
    )
    refused = "anchor_transaction row 1 referring to a missing batch row; nothing was changed"
    try:
        with pytest.raises(DatabaseError, match=refused), migrating(engine) as connection:
            connection.execute(text(orphan), {"h": "0x" + "cd" * 32, "r": "0x" + "ab" * 32})
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM anchor_transaction")).scalar() == 0
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
