"""A deployed Lotlink with one registered actor per role, reverted to that state after each test."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from web3 import Web3
from world import GLNS, World

from lotlink.chain.compile import load_artifact
from lotlink.chain.contract import LotlinkContract
from lotlink.vocabulary import Role


@pytest.fixture(scope="session")
def deployed_world(anvil: Any) -> World:
    """Deploys Lotlink once per session and registers one actor per role."""
    w3: Web3 = anvil.w3
    accounts = [Account.from_key(key) for key in anvil.private_keys]
    actors = dict(zip(Role, accounts, strict=False))
    artifact = load_artifact("Lotlink")
    admin = actors[Role.ADMIN]
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx = factory.constructor(admin.address).build_transaction(
        {"from": admin.address, "nonce": w3.eth.get_transaction_count(admin.address)}
    )
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(admin.sign_transaction(tx).raw_transaction)
    )
    world = World(
        w3=w3,
        lotlink=LotlinkContract(w3, receipt["contractAddress"], artifact.abi),
        actors=actors,
        stranger=accounts[len(Role)],
    )
    for role, account in actors.items():
        if role is not Role.ADMIN:
            world.send("registerActor", account.address, role.id, GLNS[role], bytes(32), by=admin)
    return world


@pytest.fixture
def world(deployed_world: World, chain: Any) -> World:
    """The session's deployment, with every change this test makes reverted afterwards."""
    return deployed_world
