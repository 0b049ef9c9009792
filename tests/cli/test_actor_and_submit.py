"""`lotlink actor add|token` and `lotlink submit`, run as a user would."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from typer.testing import CliRunner

from fixtures.writepath import WritePath, gln, gtin
from lotlink.cli import app
from lotlink.cli import submit as submit_module
from lotlink.config import Settings, get_settings
from lotlink.epcis.build import CONTEXT
from lotlink.vocabulary import Role

runner = CliRunner()


@pytest.fixture
def cli_env(write_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    assert write_settings.admin_key and write_settings.relayer_key
    env = {
        "LOTLINK_VAR_DIR": str(write_settings.var_dir),
        "LOTLINK_RPC_URL": str(write_settings.rpc_url),
        "LOTLINK_DATABASE_URL": str(write_settings.database_url),
        "LOTLINK_ADMIN_KEY": write_settings.admin_key.get_secret_value(),
        "LOTLINK_RELAYER_KEY": write_settings.relayer_key.get_secret_value(),
        "LOTLINK_KEYSTORE_PASSWORD": "test passphrase",
        "LOTLINK_KEYSTORE_SCRYPT_N": "1024",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_actor_add_registers_prints_a_token_once_and_tokens_revoke(
    cli_env: Settings, write_path: WritePath
) -> None:
    result = runner.invoke(
        app, ["actor", "add", "--role", "carrier", "--gln", gln(60), "--name", "Truck Co"]
    )
    assert result.exit_code == 0, result.output
    address = re.search(r"actor (0x[0-9a-fA-F]{40})", result.output)[1]  # type: ignore[index]
    token = re.search(r"(llk_\S+)", result.output)[1]  # type: ignore[index]
    assert "custodial key" in result.output
    assert write_path.world.lotlink.call("hasRole", Role.CARRIER.id, address)
    me = write_path.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["name"] == "Truck Co"

    listed = runner.invoke(app, ["actor", "token", "list", address])
    assert token[:12] in listed.output and token not in listed.output
    revoked = runner.invoke(app, ["actor", "token", "revoke", token[:12]])
    assert revoked.exit_code == 0, revoked.output
    me = write_path.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401

    own = Account.create().address
    result = runner.invoke(
        app,
        [
            "actor",
            "add",
            "--role",
            "supplier",
            "--gln",
            gln(61),
            "--name",
            "Farm",
            "--address",
            own,
        ],
    )
    assert result.exit_code == 0 and "self-custody" in result.output
    bad = runner.invoke(app, ["actor", "add", "--role", "supplier", "--gln", "123", "--name", "X"])
    assert bad.exit_code != 0


def _submit(
    monkeypatch: pytest.MonkeyPatch, write_path: WritePath, args: list[str], token: str
) -> Any:
    client = write_path.client

    def bound(url: str, token_: str) -> Any:
        client.headers["Authorization"] = f"Bearer {token_}"
        return contextlib.nullcontext(client)  # the app outlives the command

    monkeypatch.setattr(submit_module, "make_client", bound)
    result = runner.invoke(app, ["submit", *args, "--token", token])
    client.headers.pop("Authorization", None)
    return result


def test_submit_signs_locally_with_a_keystore(
    write_path: WritePath, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    supplier = write_path.actor(Role.SUPPLIER, custodial=False)
    keystore = tmp_path / "key.json"
    keystore.write_text(json.dumps(Account.encrypt(supplier.account.key, "pw", iterations=1024)))
    monkeypatch.setenv("LOTLINK_KEYSTORE_PASSWORD", "pw")
    from lotlink.chain.typed_data import Authorization
    from lotlink.services.chain_access import fresh_nonce
    from lotlink.services.lots import details_hash

    registration = (gtin(61), "CLI-1", [], [], 1000, "KGM", details_hash(None))
    auth: Authorization = write_path.chain.contract.sign_write(
        "registerLot",
        registration,
        signer=supplier.account,
        nonce=fresh_nonce(),
        deadline=write_path.world.now() + 600,
    )
    write_path.lot(
        supplier,
        gtin(61),
        "CLI-1",
        quantity=1,
        authorization={
            "signature": "0x" + auth.signature.hex(),
            "nonce": auth.nonce,
            "deadline": auth.deadline,
        },
    )
    items = [
        {
            "gtin": gtin(61),
            "lot_code": "CLI-1",
            "kind": "produced",
            "time": "2025-03-01T08:00:00.000+01:00",
        },
        {
            "gtin": gtin(61),
            "lot_code": "CLI-1",
            "kind": "inspected",
            "time": "2025-03-01T09:00:00+01:00",
            "result": "conformant",
        },
        {"gtin": gtin(61), "lot_code": "CLI-1", "kind": "shipped", "time": "bad time"},
    ]
    path = tmp_path / "checkpoints.json"
    path.write_text(json.dumps(items))
    result = _submit(
        monkeypatch, write_path, [str(path), "--keystore", str(keystore)], supplier.token
    )
    assert result.exit_code == 1, result.output
    assert "3 submitted: 2 created, 0 already recorded, 1 failed" in result.output
    assert "time" in result.output
    again = _submit(
        monkeypatch, write_path, [str(path), "--keystore", str(keystore)], supplier.token
    )
    assert "2 created" in again.output  # signed after the new heads: new events in the chain

    event = {
        "type": "ObjectEvent",
        "eventTime": "2025-03-02T08:00:00.000Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "quantityList": [{"epcClass": f"https://id.gs1.org/01/{gtin(61)}/10/CLI-1"}],
        "bizStep": "receiving",
        "disposition": "in_progress",
    }
    document = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2025-03-02T08:00:00.000Z",
        "epcisBody": {"eventList": [event, {**event, "bizStep": "storing"}]},
    }
    doc_path = tmp_path / "doc.json"
    doc_path.write_text(json.dumps(document))
    result = _submit(
        monkeypatch, write_path, [str(doc_path), "--keystore", str(keystore)], supplier.token
    )
    assert result.exit_code == 0, result.output
    assert "2 submitted: 2 created" in result.output


def test_submit_without_a_keystore_lets_the_service_sign(
    write_path: WritePath, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    supplier = write_path.actor(Role.SUPPLIER)
    lot = write_path.lot(supplier, gtin(62), "CLI-2")
    path = tmp_path / "one.json"
    path.write_text(
        json.dumps({"lot_key": lot["lot_key"], "kind": "produced", "time": "2025-03-01T08:00:00Z"})
    )
    result = _submit(monkeypatch, write_path, [str(path)], supplier.token)
    assert result.exit_code == 0, result.output
    assert "1 submitted: 1 created" in result.output
    result = _submit(monkeypatch, write_path, [str(path)], supplier.token)
    assert "1 submitted: 0 created, 1 already recorded" in result.output
