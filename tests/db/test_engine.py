"""Engine set-up per backend, URL handling, and the `lotlink db` commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lotlink.cli import app
from lotlink.db import head_revision, make_engine, normalize_database_url
from lotlink.errors import DatabaseError


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u:p@h/db", "postgresql+psycopg"),
        ("postgres://u:p@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///var/lotlink.db", "sqlite"),
    ],
)
def test_urls_are_routed_to_the_supported_drivers(url: str, driver: str) -> None:
    assert normalize_database_url(url).drivername == driver


def test_other_databases_are_refused() -> None:
    with pytest.raises(DatabaseError, match="unsupported database 'mysql'"):
        normalize_database_url("mysql://u:p@h/db")


def test_sqlite_connections_get_wal_full_sync_foreign_keys_and_busy_timeout(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'lotlink.db'}")
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 10_000
            # FULL (2): a commit, and so every 201, is on disk before it returns.
            assert pragma("PRAGMA synchronous").scalar() == 2
    finally:
        engine.dispose()


def test_sqlite_savepoints_roll_back_only_their_part(engine: Engine) -> None:
    """Explicit BEGIN makes nested transactions real on SQLite too."""
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE scratch (n INTEGER)")
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO scratch VALUES (1)")
        savepoint = connection.begin_nested()
        connection.exec_driver_sql("INSERT INTO scratch VALUES (2)")
        savepoint.rollback()
    with engine.begin() as connection:
        assert connection.exec_driver_sql("SELECT n FROM scratch").scalars().all() == [1]
        connection.exec_driver_sql("DROP TABLE scratch")


def test_cli_upgrade_and_current(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    before = runner.invoke(app, ["db", "current", "--url", url])
    upgraded = runner.invoke(app, ["db", "upgrade", "--url", url])
    after = runner.invoke(app, ["db", "current", "--url", url])

    assert "never migrated" in before.output
    assert upgraded.exit_code == 0
    assert f"is at revision {head_revision()}" in upgraded.output
    assert f"is at revision {head_revision()} (newest)" in after.output


def test_cli_commands_have_help() -> None:
    runner = CliRunner()
    for command in (["db"], ["db", "upgrade"], ["db", "current"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0
        assert "Usage" in result.output


def test_sqlite_executemany_inserts_are_multi_row_statements(tmp_path: Path) -> None:
    """Many rows go in one INSERT statement, not one statement per row: pysqlite lets go of the
    interpreter lock for each statement, and a writer holding SQLite's lock then queued to get
    it back behind the request threads once per row."""
    from sqlalchemy import Column, Integer, MetaData, String, Table, event, insert, select

    engine = make_engine(f"sqlite:///{tmp_path / 'rows.db'}")
    metadata = MetaData()
    table = Table("t", metadata, Column("id", Integer, primary_key=True), Column("v", String))
    metadata.create_all(engine)
    statements: list[str] = []

    def note(
        _conn: object, _cursor: object, sql: str, _params: object, _ctx: object, many: bool
    ) -> None:
        if sql.startswith("INSERT"):
            statements.append(sql)

    event.listen(engine, "before_cursor_execute", note)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"id": i, "v": str(i)} for i in range(50)])
        assert conn.execute(select(table.c.v).order_by(table.c.id)).scalars().all() == [
            str(i) for i in range(50)
        ]
    assert len(statements) == 1 and statements[0].count("(?, ?)") == 50  # all rows, one statement
    engine.dispose()
