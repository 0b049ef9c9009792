"""Tokens and roles: 401 without a valid token, 403 with the wrong role; tokens revocable."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select

from fixtures.writepath import WritePath, gtin
from lotlink.models import ApiToken
from lotlink.services.tokens import revoke_token
from lotlink.vocabulary import Role

LOT = {"gtin": gtin(1), "lot_code": "L1", "quantity": 10, "unit": "KGM"}


def test_writes_need_a_token(write_path: WritePath) -> None:
    response = write_path.client.post("/api/v1/lots", json=LOT)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


def test_an_unknown_token_is_401(write_path: WritePath) -> None:
    response = write_path.client.post(
        "/api/v1/lots", json=LOT, headers={"Authorization": "Bearer llk_nothing"}
    )
    assert response.status_code == 401
    assert "not valid" in response.json()["detail"]


def test_the_wrong_role_is_403_and_writes_nothing(write_path: WritePath) -> None:
    carrier = write_path.actor(Role.CARRIER)
    before = write_path.counts()
    response = write_path.client.post("/api/v1/lots", json=LOT, headers=carrier.headers)
    assert response.status_code == 403
    assert "supplier" in response.json()["detail"]
    assert write_path.counts() == before


def test_me_names_the_actor_and_its_signing_domain(write_path: WritePath) -> None:
    inspector = write_path.actor(Role.INSPECTOR, name="Lab One")
    body = write_path.client.get("/api/v1/me", headers=inspector.headers).json()
    assert body["address"] == inspector.address
    assert body["roles"] == ["inspector"] and body["name"] == "Lab One"
    assert body["custody"] == "custodial"
    assert body["domain"]["verifyingContract"] == write_path.world.lotlink.address
    assert body["domain"]["chainId"] == write_path.world.lotlink.chain_id


def test_a_revoked_token_is_401(write_path: WritePath) -> None:
    supplier = write_path.actor(Role.SUPPLIER)
    assert write_path.client.get("/api/v1/me", headers=supplier.headers).status_code == 200
    with write_path.session() as session:
        revoke_token(session, supplier.token[:12])
    response = write_path.client.get("/api/v1/me", headers=supplier.headers)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_the_actor_is_registered_on_chain_with_its_role(write_path: WritePath) -> None:
    carrier = write_path.actor(Role.CARRIER)
    contract = write_path.world.lotlink
    assert contract.call("hasRole", Role.CARRIER.id, carrier.address)
    self_custody = write_path.actor(Role.SUPPLIER, custodial=False)
    assert contract.call("hasRole", Role.SUPPLIER.id, self_custody.address)


def test_a_read_with_a_token_neither_writes_nor_waits_for_writers(write_path: WritePath) -> None:
    """A GET authenticates without writing: on SQLite it never needs the write lock, so it
    answers while another writer holds it; the token's use is recorded by its next write."""
    wp = write_path
    supplier = wp.actor(Role.SUPPLIER)
    url = wp.settings.effective_database_url
    holder = None
    if url.startswith("sqlite"):
        holder = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=10)
        holder.execute("BEGIN IMMEDIATE")  # another writer, mid-transaction
    try:
        assert wp.client.get("/api/v1/me", headers=supplier.headers).status_code == 200
    finally:
        if holder is not None:
            holder.rollback()
            holder.close()

    def last_used() -> object:
        with wp.session() as session:
            return session.scalar(
                select(ApiToken.last_used_at).where(
                    ApiToken.actor_address == supplier.address.lower()
                )
            )

    assert last_used() is None
    written = wp.client.post(
        "/api/v1/webhooks", json={"url": "https://example.org/hook"}, headers=supplier.headers
    )
    assert written.status_code == 201 and last_used() is not None


def test_a_write_is_authenticated_without_waiting_for_writers(write_path: WritePath) -> None:
    """A POST reads its token without SQLite's write lock (its use, once recorded, is not
    written again within the minute): a request refused on its body is answered at once while
    another writer holds the lock, instead of queueing behind it just to be let in."""
    wp = write_path
    supplier = wp.actor(Role.SUPPLIER)
    hook = {"url": "https://example.org/hook"}
    assert (
        wp.client.post("/api/v1/webhooks", json=hook, headers=supplier.headers).status_code == 201
    )
    url = wp.settings.effective_database_url
    if not url.startswith("sqlite"):
        pytest.skip("PostgreSQL has no database-wide write lock")
    holder = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=10)
    holder.execute("BEGIN IMMEDIATE")  # another writer, mid-transaction
    try:
        refused = wp.client.post("/epcis/capture", json={"type": 1}, headers=supplier.headers)
        assert refused.status_code == 422, refused.text
    finally:
        holder.rollback()
        holder.close()
