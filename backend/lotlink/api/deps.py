"""Request dependencies as `Annotated` aliases, so route signatures stay short.

`ActorDep` authenticates the bearer token (401 without a valid one); `require_role(...)` adds a
role check (403 with the wrong role). Checks that depend on the request body (the role that fits
a checkpoint kind) are made by the services, which raise the same domain errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from lotlink.config import Settings
from lotlink.errors import AuthenticationError, DeploymentMissingError, RoleNotAllowedError
from lotlink.models import Actor
from lotlink.services.actors import actor_roles
from lotlink.services.chain_access import ChainAccess
from lotlink.services.tokens import authenticate
from lotlink.vocabulary import Role

_bearer = HTTPBearer(auto_error=False, description="An API token from `lotlink actor add`.")


# The dependencies that only read the application's state are coroutines: FastAPI runs a plain
# function dependency in its thread pool, and each such hop cost a request about 150 µs of CPU.
async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """A database session; GET and HEAD requests only read, so they get a read-only one."""
    read_only = request.method in ("GET", "HEAD")
    factory = request.app.state.read_sessions if read_only else request.app.state.sessions
    with factory() as session:
        yield session


async def get_chain(request: Request) -> ChainAccess:
    chain: ChainAccess | None = getattr(request.app.state, "chain", None)
    if chain is None:
        raise DeploymentMissingError(reason="the service started without a recorded deployment")
    return chain


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session)]
ChainDep = Annotated[ChainAccess, Depends(get_chain)]


def get_actor(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None:
        raise AuthenticationError(reason="send an API token as `Authorization: Bearer <token>`")
    return authenticate(session, credentials.credentials)


ActorDep = Annotated[Actor, Depends(get_actor)]


def require_role(*roles: Role, action: str) -> Callable[[Actor], Actor]:
    """A dependency giving the authenticated actor if it holds one of `roles`, else 403."""

    def check(actor: ActorDep) -> Actor:
        if not actor_roles(actor) & set(roles):
            raise RoleNotAllowedError(
                actor=actor.address, action=action, allowed=[r.value for r in roles]
            )
        return actor

    return check


SupplierDep = Annotated[Actor, Depends(require_role(Role.SUPPLIER, action="register lots"))]
