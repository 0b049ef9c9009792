"""A private chain for tests that reorganise it: its own anvil, Lotlink deployed, one actor
per role, exactly as the session's `deployed_world` (which must never be reorganised)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_account import Account

from fixtures.anvil import start_test_anvil
from fixtures.world import GLNS, World
from lotlink.chain.compile import load_artifact
from lotlink.chain.contract import LotlinkContract
from lotlink.chain.node import AnvilProcess, dev_accounts
from lotlink.vocabulary import Role


def deploy_world(anvil: AnvilProcess) -> World:
    w3 = anvil.web3()
    accounts = [Account.from_key(a.key) for a in dev_accounts()]
    actors = dict(zip(Role, accounts, strict=False))
    admin = actors[Role.ADMIN]
    artifact = load_artifact("Lotlink")
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx = factory.constructor(admin.address).build_transaction(
        {"from": admin.address, "nonce": w3.eth.get_transaction_count(admin.address)}
    )
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(admin.sign_transaction(tx).raw_transaction)
    )
    world = World(
        rpc_url=anvil.url,
        deployed_block=int(receipt["blockNumber"]),
        w3=w3,
        lotlink=LotlinkContract(w3, receipt["contractAddress"], artifact.abi),
        actors=actors,
        stranger=accounts[len(Role)],
    )
    for role, account in actors.items():
        if role is not Role.ADMIN:
            world.send("registerActor", account.address, role.id, GLNS[role], bytes(32), by=admin)
    return world


def rpc(world: World, method: str, *params: Any) -> Any:
    reply = world.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" not in reply, reply
    return reply["result"]


def start_private_world(var_dir: Path) -> tuple[AnvilProcess, World]:
    anvil = start_test_anvil(var_dir)
    try:
        return anvil, deploy_world(anvil)
    except BaseException:
        anvil.stop()
        raise
