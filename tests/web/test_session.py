"""Signing in to the web pages with an API token: the cookie's flags, the forms' CSRF tokens,
bad tokens on the form, revocation, sign-out, and redirects kept on this site."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie

import httpx
from fastapi.testclient import TestClient

from fixtures.writepath import Party, WritePath
from lotlink.services.tokens import revoke_token
from lotlink.vocabulary import Role


def client_of(wp: WritePath, base_url: str = "http://testserver") -> TestClient:
    """A browser of its own (its own cookies) on the running app."""
    return TestClient(wp.client.app, base_url=base_url, follow_redirects=False)


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden field {name}"
    return found.group(1)


def set_cookie(response: httpx.Response, name: str) -> str:
    """The Set-Cookie header that sets `name`."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers}")


def sign_in(browser: TestClient, party: Party, *, next_path: str = "/recalls") -> httpx.Response:
    page = browser.get("/sign-in", params={"next": next_path})
    assert page.status_code == 200
    form = {"csrf_token": hidden(page.text, "csrf_token"), "next": next_path, "token": party.token}
    return browser.post("/sign-in", data=form)


def test_signing_in_sets_a_strict_httponly_cookie_and_signing_out_clears_it(
    write_path: WritePath,
) -> None:
    regulator = write_path.actor(Role.REGULATOR, name="Food Safety Authority")
    browser = client_of(write_path)
    page = browser.get("/sign-in")
    form_cookie = set_cookie(page, "lotlink_form")
    assert "HttpOnly" in form_cookie and "SameSite=strict" in form_cookie
    assert "Secure" not in form_cookie  # plain http: a Secure cookie would never come back
    # The double-submit value: the hidden field equals the cookie.
    assert hidden(page.text, "csrf_token") == SimpleCookie(form_cookie)["lotlink_form"].value

    response = sign_in(browser, regulator, next_path="/recalls/new")
    assert response.status_code == 303 and response.headers["location"] == "/recalls/new"
    cookie = set_cookie(response, "lotlink_session")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=28800" in cookie

    again = browser.get("/sign-in")
    assert "You are signed in as <strong>Food Safety Authority</strong> (regulator)" in again.text
    token = hidden(again.text, "csrf_token")
    assert browser.post("/sign-out", data={"csrf_token": "forged"}).status_code == 403
    out = browser.post("/sign-out", data={"csrf_token": token})
    assert out.status_code == 303
    assert 'lotlink_session=""' in set_cookie(out, "lotlink_session")
    assert "You are signed in" not in browser.get("/sign-in").text


def test_over_https_the_cookies_are_secure(write_path: WritePath) -> None:
    supplier = write_path.actor(Role.SUPPLIER)
    browser = client_of(write_path, base_url="https://testserver")
    response = sign_in(browser, supplier)
    assert response.status_code == 303
    assert "Secure" in set_cookie(response, "lotlink_session")


def test_a_bad_token_is_said_on_the_form_and_a_forged_form_is_a_403_page(
    write_path: WritePath,
) -> None:
    browser = client_of(write_path)
    page = browser.get("/sign-in")
    csrf = hidden(page.text, "csrf_token")
    wrong = browser.post("/sign-in", data={"csrf_token": csrf, "token": "llk_not-a-token"})
    assert wrong.status_code == 401
    assert 'id="form-error">This API token is not valid: it is unknown, revoked or expired.' in (
        wrong.text
    )
    assert "lotlink_session" not in wrong.headers.get("set-cookie", "")
    empty = browser.post("/sign-in", data={"csrf_token": csrf, "token": "  "})
    assert empty.status_code == 422 and 'id="form-error">Paste your API token.' in empty.text

    supplier = write_path.actor(Role.SUPPLIER)
    for data in ({"token": supplier.token}, {"token": supplier.token, "csrf_token": "x" * 43}):
        forged = browser.post("/sign-in", data=data)
        assert forged.status_code == 403
        assert forged.headers["content-type"].startswith("text/html")
        assert 'id="error-reason">This form was refused' in forged.text
        assert "Traceback" not in forged.text
    # A cross-site form carries no cookie at all (SameSite=Strict): refused too.
    stranger = client_of(write_path)
    posted = stranger.post("/sign-in", data={"token": supplier.token, "csrf_token": csrf})
    assert posted.status_code == 403


def test_a_revoked_token_ends_the_session_and_next_stays_on_this_site(
    write_path: WritePath,
) -> None:
    regulator = write_path.actor(Role.REGULATOR)
    browser = client_of(write_path)
    response = sign_in(browser, regulator, next_path="https://evil.example/phish")
    assert response.headers["location"] == "/recalls"
    assert "You are signed in" in browser.get("/sign-in").text
    with write_path.session() as session:
        revoke_token(session, regulator.token)
    assert "You are signed in" not in browser.get("/sign-in").text
    # A page that needs signing in sends the browser to the sign-in page, and back after.
    needs = browser.get("/sign-in", params={"next": "//evil.example"})
    assert hidden(needs.text, "next") == "/recalls"
