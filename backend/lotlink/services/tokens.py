"""API tokens: random bearer secrets shown once, stored as SHA-256, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from lotlink.db.engine import READ_ONLY_OPTION, begin_read_only
from lotlink.errors import AuthenticationError, UnknownTokenError
from lotlink.models import Actor, ApiToken
from lotlink.models.types import utc_now

TOKEN_PREFIX = "llk_"
_SHOWN_PREFIX_LENGTH = 12
# Writing last_used_at on every request would make every read a write; once a minute is plenty.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once; only its hash is stored


def issue_token(session: Session, actor: Actor, *, label: str | None = None) -> IssuedToken:
    """A new token for `actor`; the secret is returned here and never again."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        actor_address=actor.address,
        token_hash=hash_token(secret),
        prefix=secret[:_SHOWN_PREFIX_LENGTH],
        label=label,
    )
    session.add(token)
    session.commit()
    return IssuedToken(token=token, secret=secret)


def revoke_token(session: Session, token: str) -> ApiToken:
    """Revokes the token whose id, shown prefix or full secret is `token`."""
    query = select(ApiToken)
    if token.isdigit():
        query = query.where(ApiToken.id == int(token))
    elif len(token) > _SHOWN_PREFIX_LENGTH:
        query = query.where(ApiToken.token_hash == hash_token(token))
    else:
        query = query.where(ApiToken.prefix == token)
    found = list(session.scalars(query))
    if len(found) != 1:
        raise UnknownTokenError(token=token)
    row = found[0]
    if row.revoked_at is None:
        row.revoked_at = utc_now()
    session.commit()
    return row


def list_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.actor_address == actor.address).order_by(ApiToken.id)
    return list(session.scalars(query))


def authenticate(session: Session, secret: str) -> Actor:
    """The actor a bearer secret acts for; AuthenticationError if it is unknown or revoked.

    The token is read in a read-only transaction (on SQLite, no write lock: a request is not
    queued behind the anchorer's or another request's write just to be let in), which is ended
    before returning, so a write that follows starts its own. ``last_used_at`` is written, in a
    short transaction of its own, only by a writing request and at most once a minute: a GET
    never records the use (a read must never wait for writers).
    """
    writing = not session.get_bind().get_execution_options().get(READ_ONLY_OPTION, False)
    begin_read_only(session)
    # One statement for the token, its actor and the actor's roles (every request pays it:
    # loading them one select after another took twice as long).
    found = (
        session.execute(
            select(
                ApiToken.id, ApiToken.revoked_at, ApiToken.expires_at, ApiToken.last_used_at, Actor
            )
            .join(ApiToken.actor)
            .where(ApiToken.token_hash == hash_token(secret))
            .options(joinedload(Actor.roles))
        )
        .unique()
        .one_or_none()
    )
    now = utc_now()
    session.commit()  # it only read (a rollback would expire what it read)
    if found is None:
        raise AuthenticationError(reason="the API token is not valid")
    token_id, revoked_at, expires_at, last_used_at, actor = found
    if revoked_at is not None or (expires_at is not None and expires_at <= now):
        raise AuthenticationError(reason="the API token was revoked or has expired")
    if writing and (last_used_at is None or now - last_used_at > _LAST_USED_RESOLUTION):
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        session.commit()
    return actor
