"""The data layer: engines and sessions, the models' declarative base, and migrations.

Call :func:`upgrade_database` before first use (``lotlink db upgrade`` does), then take sessions
from :func:`get_session_factory` (or :func:`make_session_factory` for an explicit engine).
"""

from lotlink.db.base import NAMING_CONVENTION, Base
from lotlink.db.engine import (
    get_engine,
    get_session_factory,
    make_engine,
    make_session_factory,
    normalize_database_url,
    redact_url,
)
from lotlink.db.migrate import (
    current_revision,
    head_revision,
    make_alembic_config,
    require_current_schema,
    upgrade_database,
)

__all__ = [
    "NAMING_CONVENTION",
    "Base",
    "current_revision",
    "get_engine",
    "get_session_factory",
    "head_revision",
    "make_alembic_config",
    "make_engine",
    "make_session_factory",
    "normalize_database_url",
    "redact_url",
    "require_current_schema",
    "upgrade_database",
]
