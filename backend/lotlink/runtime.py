"""What a Lotlink process needs before it serves: a chain that answers, the deployment, the schema.

`lotlink serve`, `lotlink deploy` and tests share these steps, so each is written once here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from web3 import Web3

from lotlink.chain.accounts import admin_account, relayer_account
from lotlink.chain.compile import load_artifact
from lotlink.chain.contract import LotlinkContract
from lotlink.chain.deploy import Deployment, ensure_deployment
from lotlink.chain.node import AnvilProcess, connect, rpc_chain_id, start_anvil
from lotlink.chain.relayer import Relayer
from lotlink.config import Settings
from lotlink.db.migrate import upgrade_database
from lotlink.errors import ChainIdMismatchError, ChainUnavailableError
from lotlink.gs1.keys import normalize_gln
from lotlink.vocabulary import Role


@contextmanager
def open_chain(settings: Settings) -> Iterator[Web3]:
    """A connection to the configured chain; for the managed chain, anvil is started if nothing
    answers yet (and stopped on exit), or an anvil already running there (`lotlink chain up`)
    is reused when its chain id is the configured one."""
    started: AnvilProcess | None = None
    if settings.managed_chain:
        try:
            running_id = rpc_chain_id(settings.effective_rpc_url)
        except ChainUnavailableError:
            started = start_anvil(settings)
        else:
            if running_id != settings.anvil_chain_id:
                raise ChainIdMismatchError(
                    expected=settings.anvil_chain_id,
                    actual=running_id,
                    url=settings.effective_rpc_url,
                    source="LOTLINK_ANVIL_CHAIN_ID asks for the managed chain to be",
                )
    try:
        yield connect(settings)
    finally:
        if started is not None:
            started.stop()


def ensure_relayer_role(settings: Settings, contract: LotlinkContract) -> None:
    """Gives the relayer the anchorer role, signed by the admin, if it does not hold it yet.

    On a remote chain the admin key is needed only this once; afterwards the role is on chain.
    """
    relayer = relayer_account(settings)
    if contract.call("hasRole", Role.ANCHORER.id, relayer.address):
        return
    admin = admin_account(settings)
    gln = int(normalize_gln(settings.relayer_gln))
    args = (relayer.address, Role.ANCHORER.id, gln, bytes(32))
    auth = contract.sign_write(
        "registerActor", *args, signer=admin, deadline=int(time.time()) + 3600
    )
    Relayer.of_service(settings, contract).send("registerActor", *args, auth=auth)


@dataclass(frozen=True, slots=True)
class Prepared:
    """The chain connection, the verified deployment and the database revision of a process."""

    w3: Web3
    deployment: Deployment
    database_revision: str | None


@contextmanager
def prepare(settings: Settings) -> Iterator[Prepared]:
    """Chain up, contracts deployed (the managed chain deploys on first run; a remote endpoint
    must already have a recorded deployment), database migrated to the newest schema."""
    with open_chain(settings) as w3:
        deployment = ensure_deployment(settings, w3, allow_deploy=settings.managed_chain)
        ensure_relayer_role(
            settings, LotlinkContract(w3, deployment.address(), load_artifact("Lotlink").abi)
        )
        revision = upgrade_database(settings.effective_database_url)
        yield Prepared(w3=w3, deployment=deployment, database_revision=revision)
