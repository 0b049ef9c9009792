"""The Jinja2 environment of the pages: autoescaped, templates beside this module."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES_DIR = Path(__file__).parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)


def _offset(text: str) -> timezone:
    sign = -1 if text.startswith("-") else 1
    hours, minutes = text[1:].split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def local_time(value: datetime, offset: str | None = None) -> str:
    """``1 Mar 2025, 09:30 (UTC+01:00)``: the instant in the offset it was stated in."""
    if offset:
        value = value.astimezone(_offset(offset))
        label = "UTC" if offset in {"+00:00", "-00:00"} else f"UTC{offset}"
    else:
        label = "UTC"
        value = value.astimezone(UTC)
    return f"{value.day} {value:%b %Y, %H:%M} ({label})"


def day(value: datetime | None) -> str:
    return "" if value is None else f"{value.day} {value:%b %Y}"


_env.filters["local_time"] = local_time
_env.filters["day"] = day


def render_text(template: str, /, **context: Any) -> str:
    return _env.get_template(template).render(**context)


def render(
    template: str,
    /,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """An HTML response from `template`."""
    return HTMLResponse(render_text(template, **context), status_code=status_code, headers=headers)
