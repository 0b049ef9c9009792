"""Alembic, driven from code: the migrations ship inside the package, so an installed Lotlink
can migrate its database with no alembic.ini and no source checkout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from lotlink.config import get_settings
from lotlink.db.engine import make_engine, normalize_database_url, redact_url
from lotlink.errors import DatabaseError, DatabaseNotMigratedError

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")


def make_alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic Config for Lotlink's migrations, for ``alembic.command`` calls.

    The URL travels in ``config.attributes`` rather than the ``sqlalchemy.url`` option, whose
    ini-style interpolation would mangle a password containing ``%``. To author a migration:
    ``command.revision(make_alembic_config(url), message="...", autogenerate=True)``.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = normalize_database_url(
        url if url is not None else get_settings().effective_database_url
    )
    return config


def head_revision() -> str:
    """The newest migration this version of Lotlink ships."""
    head = ScriptDirectory.from_config(make_alembic_config("sqlite://")).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its initial migration
        raise DatabaseError(url="-", reason="no migrations are packaged")
    return head


def upgrade_database(url: str | URL | None = None, *, revision: str = "head") -> str | None:
    """Migrate the database at ``url`` (default: the configured one) to ``revision``; return the
    revision it is at afterwards. Safe to call on every start: at head it does nothing, and on
    PostgreSQL concurrent callers are serialised by an advisory lock (see migrations/env.py).
    """
    config = make_alembic_config(url)
    target: URL = config.attributes["database_url"]
    engine = make_engine(target, poolclass=NullPool)
    try:
        with migrating(engine) as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            return _revision_of(connection)
    except CommandError as error:
        raise DatabaseError(url=redact_url(target), reason=f"cannot migrate: {error}") from None
    except SQLAlchemyError as error:
        raise DatabaseError(url=redact_url(target), reason=_first_line(error)) from None
    finally:
        engine.dispose()


@contextmanager
def migrating(engine: Engine) -> Iterator[Connection]:
    """A connection in the one transaction migrations run in, committed if they all succeed.

    On SQLite, foreign keys are not enforced until it ends. SQLite alters a table by copying it
    and dropping the old one, and with them enforced that drop deletes every row referring to
    the table through ON DELETE CASCADE (a batch's stored transactions, in 0006). They are
    checked instead (``PRAGMA foreign_key_check``) before the transaction commits.
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _enforce_foreign_keys(connection, False)
        try:
            with connection.begin():
                yield connection
                if sqlite and (broken := connection.exec_driver_sql(_FK_CHECK).first()):
                    table, rowid, parent, _ = broken
                    raise DatabaseError(
                        url=redact_url(engine.url),
                        reason=f"migrating left {table} row {rowid} referring to a missing "
                        f"{parent} row; nothing was changed",
                    )
        finally:
            if sqlite:
                _enforce_foreign_keys(connection, True)


_FK_CHECK = "PRAGMA foreign_key_check"


def _enforce_foreign_keys(connection: Connection, on: bool) -> None:
    # On the driver's own connection, outside any transaction: inside one the pragma does nothing.
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def current_revision(url: str | URL | None = None) -> str | None:
    """The revision the database at ``url`` (default: the configured one) is at; None if it
    was never migrated."""
    target = normalize_database_url(
        url if url is not None else get_settings().effective_database_url
    )
    engine = make_engine(target, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return _revision_of(connection)
    except SQLAlchemyError as error:
        raise DatabaseError(url=redact_url(target), reason=_first_line(error)) from None
    finally:
        engine.dispose()


def require_current_schema(engine: Engine) -> None:
    """Raise DatabaseNotMigratedError unless ``engine``'s database is at this version's head.

    The service calls this at start-up instead of migrating implicitly, so that a database
    newer than the code (a rollback of the code) is noticed rather than written to.
    """
    try:
        with engine.connect() as connection:
            current = _revision_of(connection)
    except SQLAlchemyError as error:
        raise DatabaseError(url=redact_url(engine.url), reason=_first_line(error)) from None
    head = head_revision()
    if current != head:
        raise DatabaseNotMigratedError(url=redact_url(engine.url), current=current, head=head)


def _revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _first_line(error: SQLAlchemyError) -> str:
    """The driver's own message, first line only: what a user can act on."""
    original = getattr(error, "orig", None) or error
    text = str(original).strip()
    return text.splitlines()[0] if text else type(original).__name__
