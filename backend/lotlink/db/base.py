"""The declarative base every model shares, and the naming convention its constraints follow.

Constraint names are fixed by convention rather than left to each database, so a migration can
drop or alter a constraint by name on SQLite and PostgreSQL alike, and autogenerate compares
like with like. Names stay under PostgreSQL's 63-character limit.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Root of the ORM models; its metadata is what migrations are checked against."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
