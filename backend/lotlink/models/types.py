"""Portable column types: chain values and instants that behave the same on SQLite and PostgreSQL.

Bytes32 values (lot keys, digests, roots, hashes) are stored as lowercase ``0x``-prefixed hex
text, not as binary. They are what every other surface speaks (URLs, JSON, receipts, manifests,
log lines, ``psql`` and ``sqlite3`` sessions), so a row can be read, joined and compared with a
receipt without conversion; the cost, 66 bytes instead of 32, is small next to the indexes
that the two forms need alike. Binding normalises: ``bytes`` and mixed-case hex both become the
one canonical spelling, so equality in SQL is equality of values, and malformed input fails at
the boundary instead of silently matching nothing. Addresses follow the same rule (lowercase;
EIP-55 checksums are a display concern).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Dialect, Enum, String
from sqlalchemy.types import TypeDecorator, TypeEngine

_HEX = re.compile(r"0x[0-9a-f]*")

#: The zero bytes32, the on-chain "none".
ZERO_HASH = "0x" + "00" * 32


def _to_hex(value: object, *, size: int | None, what: str) -> str:
    """Return ``value`` (bytes or hex text) as lowercase 0x-hex, checking its length in bytes."""
    if isinstance(value, bytes | bytearray | memoryview):
        text = "0x" + bytes(value).hex()
    elif isinstance(value, str):
        text = value.lower()
        if not text.startswith("0x"):
            text = "0x" + text
    else:
        raise TypeError(f"{what} must be bytes or hex text, not {type(value).__name__}")
    if not _HEX.fullmatch(text) or len(text) % 2:
        raise ValueError(f"{what} is not hex: {value!r}")
    if size is not None and len(text) != 2 + 2 * size:
        raise ValueError(f"{what} must be {size} bytes: {value!r}")
    return text


class _HexText(TypeDecorator[str]):
    """Bytes as lowercase ``0x`` hex text; `size` in bytes, None for any length."""

    impl: TypeEngine[Any] | type[TypeEngine[Any]] = String
    cache_ok = True
    size: int | None = None
    what = "hex value"

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else _to_hex(value, size=self.size, what=self.what)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        # Nearly every value bound is already canonical text (the services make it so), and a
        # batch binds thousands: those pass on one regular expression, the rest are converted
        # (or refused) by `_to_hex`. TypeDecorator's generic wrapper cost about four times as much.
        size, what = self.size, self.what
        length = None if size is None else 2 + 2 * size
        canonical = _HEX.fullmatch

        def process(value: Any) -> str | None:
            if (
                type(value) is str
                and (len(value) == length if length is not None else len(value) % 2 == 0)
                and canonical(value)
            ):
                return value
            return None if value is None else _to_hex(value, size=size, what=what)

        return process


class Hex32(_HexText):
    """A bytes32 (hash, key, root) as 66 characters of lowercase ``0x`` hex."""

    impl = String(66)
    cache_ok = True
    size = 32
    what = "bytes32"


class Address(_HexText):
    """An Ethereum address as 42 characters of lowercase ``0x`` hex."""

    impl = String(42)
    cache_ok = True
    size = 20
    what = "address"


class HexBlob(_HexText):
    """Variable-length bytes (a signature) as lowercase ``0x`` hex."""

    impl = String
    cache_ok = True


def _aware_utc(value: Any) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"a timezone-aware datetime is required, not {value!r}")
    return value.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """An instant, stored in UTC and always returned timezone-aware.

    Naive datetimes are refused: an instant without an offset is a bug waiting for a server in
    another zone. SQLite keeps no offset, so results gain UTC back on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = _aware_utc(value)
        # SQLite stores text; dropping the offset keeps its ordering lexicographic.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: Any) -> str | None:
            # The text SQLite's DATETIME stores ("YYYY-MM-DD HH:MM:SS.ffffff", UTC), written
            # directly: a capture binds three instants per event, and TypeDecorator's wrapper
            # around the dialect's %-format cost twice as much.
            if value is None:
                return None
            return _aware_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: Any) -> datetime | None:
            # SQLite hands back the text stored ("YYYY-MM-DD HH:MM:SS[.ffffff]", UTC): the C
            # parser reads it about ten times faster than SQLAlchemy's regular expression,
            # which batches of a thousand rows noticed.
            if value is None or isinstance(value, datetime):
                return self.process_result_value(value, dialect)
            return datetime.fromisoformat(value).replace(tzinfo=UTC)

        return process


def utc_now() -> datetime:
    """The current instant in UTC; the default for every recorded-at column."""
    return datetime.now(UTC)


def enum_type(enum_class: type[StrEnum], *, name: str) -> Enum:
    """A portable enum column: VARCHAR plus a CHECK constraint, storing the members' values.

    Native PostgreSQL enums are avoided on purpose: adding a member to one needs its own
    migration step outside a transaction, and SQLite has none. ``name`` names the CHECK.
    """
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
    )
