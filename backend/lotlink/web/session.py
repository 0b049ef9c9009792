"""Signing in to the web pages with an API token, and the anti-forgery token of every form.

An actor signs in by pasting one of its API tokens (`lotlink actor add`, `lotlink actor token
issue`). The token is checked exactly as the API checks a bearer token
(`lotlink.services.tokens.authenticate`), on every request, so revoking it signs its holder out at
once; nothing about the session is stored on the server. It is kept in an HttpOnly,
SameSite=Strict cookie (Secure when the site is served over https): page scripts cannot read it
and no other site can make a browser send it.

Every form carries an anti-forgery (CSRF) token as the hidden field ``csrf_token``. Signed in, it
is an HMAC of the session's token (the same for every form of the session, useless without the
session cookie); signed out (the sign-in form itself), it is a random value also set in a cookie
of its own (double submit). A POST without the right one is a 403 page.

Pages use `SignedInDep` (who is signed in, or None), `signed_in_as(*roles, action=...)` (401, or
a redirect to the sign-in page for a GET, when nobody is; 403 with the wrong role) and
`FormTokenDep` (the form's CSRF check) as route dependencies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from eth_utils import to_checksum_address
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from lotlink.config import Settings
from lotlink.errors import AuthenticationError, FormTokenError, RoleNotAllowedError
from lotlink.models import Actor
from lotlink.services.actors import actor_roles
from lotlink.services.tokens import authenticate
from lotlink.vocabulary import Role
from lotlink.web.templating import render

router = APIRouter(include_in_schema=False)

SESSION_COOKIE = "lotlink_session"
FORM_COOKIE = "lotlink_form"
#: A session ends after this long even if the browser stays open (a shared office computer).
SESSION_SECONDS = 8 * 3600
_CSRF_CONTEXT = b"lotlink web form v1"


@dataclass(frozen=True, slots=True)
class WebActor:
    """The actor signed in to this browser, and the CSRF token its forms carry."""

    actor: Actor
    roles: frozenset[Role]
    csrf_token: str

    @property
    def address(self) -> str:
        return to_checksum_address(self.actor.address)

    @property
    def name(self) -> str:
        return self.actor.name or self.address

    @property
    def role_words(self) -> str:
        return ", ".join(sorted(role.value for role in self.roles))

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))


def session_csrf_token(api_token: str) -> str:
    """The CSRF token of a session: an HMAC keyed by its API token, so only its holder has it."""
    return hmac.new(api_token.encode("utf-8"), _CSRF_CONTEXT, hashlib.sha256).hexdigest()


def _secure(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return request.url.scheme == "https" or settings.public_base_url.startswith("https://")


def _set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def _web_actor(request: Request, api_token: str) -> WebActor | None:
    with request.app.state.sessions() as session:
        try:
            actor = authenticate(session, api_token)
        except AuthenticationError:
            return None
        return WebActor(actor, frozenset(actor_roles(actor)), session_csrf_token(api_token))


async def current_actor(request: Request) -> WebActor | None:
    """The actor whose token the session cookie holds, if it is still valid; else None."""
    if "lotlink_web_actor" in request.scope:  # once per request, whoever asks
        found: WebActor | None = request.scope["lotlink_web_actor"]
        return found
    api_token = request.cookies.get(SESSION_COOKIE)
    found = None if not api_token else await run_in_threadpool(_web_actor, request, api_token)
    request.scope["lotlink_web_actor"] = found
    return found


SignedInDep = Annotated[WebActor | None, Depends(current_actor)]


def signed_in_as(*roles: Role, action: str) -> Callable[..., object]:
    """A dependency giving the signed-in actor if it holds one of `roles`: AuthenticationError
    when nobody is signed in (a GET is sent to the sign-in page), RoleNotAllowedError else."""

    async def check(signed_in: SignedInDep) -> WebActor:
        if signed_in is None:
            raise AuthenticationError(reason="sign in with your API token first")
        if not signed_in.has(*roles):
            raise RoleNotAllowedError(
                actor=f"{signed_in.name} ({signed_in.address})",
                action=action,
                allowed=[role.value for role in roles],
            )
        return signed_in

    return check


async def check_form_token(request: Request, signed_in: SignedInDep) -> None:
    """Refuses a form whose ``csrf_token`` is not this session's (or, signed out, the cookie's)."""
    form = await request.form()
    given = form.get("csrf_token")
    expected = (
        signed_in.csrf_token if signed_in is not None else request.cookies.get(FORM_COOKIE, "")
    )
    if not isinstance(given, str) or not given:
        raise FormTokenError(reason="the form came without its security token")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise FormTokenError(reason="the form's security token does not match this session")


FormTokenDep = Annotated[None, Depends(check_form_token)]


def sign_in_redirect(request: Request) -> RedirectResponse:
    """303 to the sign-in page, which comes back to this page afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)


def _local(target: str | None) -> str:
    """`target` if it is a path on this site; never a redirect to another one."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/recalls"


def _sign_in_page(
    request: Request,
    *,
    next_path: str,
    error: str | None = None,
    status_code: int = 200,
    signed_in: WebActor | None,
) -> HTMLResponse:
    form_token = request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        "sign_in.html",
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
        next_path=next_path,
        # Signed in already, the page's forms (sign out, sign in as someone else) are the
        # session's; signed out, the double-submit cookie's.
        csrf_token=form_token if signed_in is None else signed_in.csrf_token,
        error=error,
        signed_in=signed_in,
    )
    if signed_in is None:
        _set_cookie(response, request, FORM_COOKIE, form_token)
    return response


@router.get("/sign-in")
async def sign_in_form(request: Request, signed_in: SignedInDep) -> Response:
    return _sign_in_page(
        request, next_path=_local(request.query_params.get("next")), signed_in=signed_in
    )


@router.post("/sign-in")
async def sign_in(
    request: Request,
    signed_in: SignedInDep,
    _checked: FormTokenDep,
    token: Annotated[str, Form(max_length=400)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "",
) -> Response:
    target = _local(next_path)
    token = token.strip()
    if not token:
        return _sign_in_page(
            request,
            next_path=target,
            error="Paste your API token.",
            status_code=422,
            signed_in=signed_in,
        )
    found = await run_in_threadpool(_web_actor, request, token)
    if found is None:
        return _sign_in_page(
            request,
            next_path=target,
            error="This API token is not valid: it is unknown, revoked or expired.",
            status_code=401,
            signed_in=signed_in,
        )
    response = RedirectResponse(target, status_code=303)
    _set_cookie(response, request, SESSION_COOKIE, token)
    response.delete_cookie(FORM_COOKIE, path="/")
    return response


@router.post("/sign-out")
async def sign_out(request: Request, _checked: FormTokenDep) -> Response:
    response = RedirectResponse("/recalls", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
