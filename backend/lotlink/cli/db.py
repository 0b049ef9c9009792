"""`lotlink db …`: create and migrate the database."""

from __future__ import annotations

import typer

from lotlink.config import get_settings
from lotlink.db.engine import redact_url
from lotlink.db.migrate import current_revision, head_revision, upgrade_database

app = typer.Typer(help="Create and migrate the database.", no_args_is_help=True)

_URL_HELP = "SQLAlchemy URL of the database; default: LOTLINK_DATABASE_URL, else SQLite in var/."


@app.command("upgrade")
def upgrade(
    url: str | None = typer.Option(None, "--url", help=_URL_HELP, show_default=False),
) -> None:
    """Migrate the database to the newest schema (creating it if needed) and print its revision.

    Safe to run at any time: a database already at the newest revision is left as it is.
    """
    target = url or get_settings().effective_database_url
    revision = upgrade_database(target)
    typer.echo(f"{redact_url(target)} is at revision {revision}")


@app.command("current")
def current(
    url: str | None = typer.Option(None, "--url", help=_URL_HELP, show_default=False),
) -> None:
    """Print the database's schema revision, and whether it is the newest this Lotlink knows."""
    target = url or get_settings().effective_database_url
    revision = current_revision(target)
    head = head_revision()
    if revision is None:
        typer.echo(f"{redact_url(target)} was never migrated (newest is {head})")
    elif revision == head:
        typer.echo(f"{redact_url(target)} is at revision {revision} (newest)")
    else:
        typer.echo(f"{redact_url(target)} is at revision {revision} (newest is {head})")
