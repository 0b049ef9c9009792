"""Alembic environment for Lotlink. Run through :mod:`lotlink.db.migrate`, which passes either
an open connection (``config.attributes["connection"]``) or a URL (``["database_url"]``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.pool import NullPool

from lotlink.db.engine import make_engine
from lotlink.db.migrate import migrating
from lotlink.models import Base

#: pg_advisory_xact_lock key serialising migrations across processes ("LOTLINK" in ASCII).
MIGRATION_LOCK_KEY = 0x4C4F544C494E4B

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite can alter a table only by copying it; batch mode renders migrations that do.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two service instances starting together must not both create the tables.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        context.run_migrations()


def run_migrations_offline() -> None:
    """Render SQL instead of running it (``alembic upgrade --sql``)."""
    context.configure(
        url=config.attributes["database_url"],
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    engine = make_engine(config.attributes["database_url"], poolclass=NullPool)
    try:
        with migrating(engine) as own_connection:
            _configure_and_run(own_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
