"""`lotlink actor …`: add actors (registered on chain by the admin) and manage their API tokens."""

from __future__ import annotations

import typer
from eth_utils import to_checksum_address

from lotlink.config import get_settings
from lotlink.db.engine import make_engine, make_session_factory
from lotlink.runtime import prepare
from lotlink.services.actors import ACTOR_ROLES, add_actor, get_actor
from lotlink.services.chain_access import ChainAccess
from lotlink.services.tokens import issue_token, list_tokens, revoke_token
from lotlink.vocabulary import Role

app = typer.Typer(help="Actors and their API tokens.", no_args_is_help=True)
token_app = typer.Typer(help="Issue, list and revoke API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")

_ROLES = ", ".join(r.value for r in ACTOR_ROLES)


@app.command("add")
def add(
    role: str = typer.Option(..., "--role", help=f"One of {_ROLES}."),
    gln: str = typer.Option(..., "--gln", help="The actor's 13-digit GLN."),
    name: str = typer.Option(..., "--name", help="The actor's name."),
    address: str | None = typer.Option(
        None, "--address", help="Self-custody: the actor's own address (no key is kept here)."
    ),
    label: str | None = typer.Option(None, "--label", help="A note on the first API token."),
) -> None:
    """Create an actor, register it on chain (signed by the admin, relayed), and print its first
    API token. Without --address a custodial key is generated into an encrypted keystore."""
    try:
        chosen = Role(role)
    except ValueError:
        raise typer.BadParameter(f"{role!r} is not one of {_ROLES}", param_hint="--role") from None
    settings = get_settings()
    with prepare(settings) as prepared:
        chain = ChainAccess.connect(settings, prepared.w3, prepared.deployment)
        engine = make_engine(settings.effective_database_url)
        try:
            with make_session_factory(engine)() as session:
                created = add_actor(
                    session, chain, role=chosen, gln=gln, name=name, address=address
                )
                token = issue_token(session, created.actor, label=label)
        finally:
            engine.dispose()
    actor = created.actor
    typer.echo(f"actor {to_checksum_address(actor.address)} ({chosen.value}, GLN {actor.gln})")
    if actor.keystore_path:
        typer.echo(f"custodial key: {actor.keystore_path}")
    else:
        typer.echo("self-custody: the actor signs with its own key")
    typer.echo(f"API token (shown once, keep it secret): {token.secret}")


@token_app.command("issue")
def issue(
    address: str = typer.Argument(..., help="The actor's address."),
    label: str | None = typer.Option(None, "--label", help="A note to tell tokens apart."),
) -> None:
    """Issue another API token for an actor; it is printed once and stored only as a hash."""
    engine = make_engine(get_settings().effective_database_url)
    try:
        with make_session_factory(engine)() as session:
            token = issue_token(session, get_actor(session, address), label=label)
    finally:
        engine.dispose()
    typer.echo(f"API token {token.token.id} (shown once, keep it secret): {token.secret}")


@token_app.command("revoke")
def revoke(
    token: str = typer.Argument(..., help="The token's id, its shown prefix, or the token."),
) -> None:
    """Revoke an API token: requests carrying it are refused from now on (401)."""
    engine = make_engine(get_settings().effective_database_url)
    try:
        with make_session_factory(engine)() as session:
            row = revoke_token(session, token)
    finally:
        engine.dispose()
    typer.echo(
        f"revoked token {row.id} ({row.prefix}…) of {to_checksum_address(row.actor_address)}"
    )


@token_app.command("list")
def list_(address: str = typer.Argument(..., help="The actor's address.")) -> None:
    """List an actor's tokens (id, prefix, label, state); secrets are never shown again."""
    engine = make_engine(get_settings().effective_database_url)
    try:
        with make_session_factory(engine)() as session:
            rows = list_tokens(session, get_actor(session, address))
    finally:
        engine.dispose()
    for row in rows:
        state = "revoked" if row.revoked_at else "active"
        typer.echo(f"{row.id}\t{row.prefix}…\t{state}\t{row.label or ''}")
