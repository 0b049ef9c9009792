"""Deploy the contracts once per chain and record where they are in var/deployment.json.

The record is what every later process trusts to find the contracts, so it is checked against the
endpoint each time: same chain id, code still at the address, same ABI as the current artifact.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import BaseModel, ConfigDict, ValidationError
from web3 import Web3

from lotlink.chain.compile import load_artifact
from lotlink.chain.node import dev_accounts
from lotlink.config import Settings
from lotlink.errors import (
    ChainIdMismatchError,
    ContractsChangedError,
    DeployerKeyMissingError,
    DeploymentFailedError,
    DeploymentMissingError,
    DeploymentStaleError,
)

# What `lotlink deploy` deploys; each takes the admin address as its only constructor argument.
CONTRACTS = ("Lotlink",)
RECEIPT_TIMEOUT_SECONDS = 180


class DeployedContract(BaseModel):
    """One contract of a deployment: where it is and which ABI it was deployed with."""

    model_config = ConfigDict(frozen=True)

    address: str
    block: int
    tx_hash: str
    abi_hash: str


class Deployment(BaseModel):
    """The deployment record kept in var/deployment.json."""

    model_config = ConfigDict(frozen=True)

    chain_id: int
    contracts: dict[str, DeployedContract]
    deployer: str
    admin: str
    deployed_at: datetime

    def address(self, name: str = "Lotlink") -> str:
        return self.contracts[name].address

    def start_block(self) -> int:
        """The first block an indexer needs to read: nothing of ours happened before it."""
        return min(contract.block for contract in self.contracts.values())


def load_deployment(path: Path) -> Deployment | None:
    """The recorded deployment, or None when there is none."""
    try:
        return Deployment.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValidationError as error:
        raise DeploymentMissingError(
            reason=f"{path} is unreadable ({error.error_count()} errors); remove it and deploy"
        ) from None


def save_deployment(deployment: Deployment, path: Path) -> None:
    """Write the record atomically, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".json.tmp")
    scratch.write_text(deployment.model_dump_json(indent=2) + "\n", encoding="utf-8")
    scratch.replace(path)


def deployer_account(settings: Settings) -> LocalAccount:
    """Anvil's first dev account on the managed chain, else LOTLINK_DEPLOYER_KEY; never a guess."""
    if settings.managed_chain:
        return dev_accounts(1)[0]
    if settings.deployer_key is None:
        raise DeployerKeyMissingError(url=settings.effective_rpc_url)
    try:
        account: LocalAccount = Account.from_key(settings.deployer_key.get_secret_value())
    except (ValueError, TypeError):
        raise DeployerKeyMissingError(url=settings.effective_rpc_url) from None
    return account


def _deploy_one(
    w3: Web3, account: LocalAccount, name: str, admin: str, build_dir: Path | None
) -> DeployedContract:
    artifact = load_artifact(name, build_dir=build_dir)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    try:
        transaction = factory.constructor(admin).build_transaction(
            {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)}
        )
        signed = account.sign_transaction(transaction)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_SECONDS)
    except Exception as error:  # RPC rejections, reverts in gas estimation, timeouts
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DeploymentFailedError(name=name, reason=detail) from None
    if receipt["status"] != 1 or not receipt["contractAddress"]:
        raise DeploymentFailedError(name=name, reason=f"transaction {tx_hash.to_0x_hex()} reverted")
    return DeployedContract(
        address=Web3.to_checksum_address(receipt["contractAddress"]),
        block=int(receipt["blockNumber"]),
        tx_hash=tx_hash.to_0x_hex(),
        abi_hash=artifact.abi_hash,
    )


def deploy(
    w3: Web3,
    *,
    deployer_key_or_account: str | bytes | LocalAccount,
    admin: str,
    build_dir: Path | None = None,
    contracts: tuple[str, ...] = CONTRACTS,
) -> Deployment:
    """Deploy each contract from its committed artifact with `constructor(address admin)`.

    Returns the record; saving it is the caller's choice (ensure_deployment saves it).
    """
    account = (
        deployer_key_or_account
        if isinstance(deployer_key_or_account, LocalAccount)
        else Account.from_key(deployer_key_or_account)
    )
    admin = Web3.to_checksum_address(admin)
    deployed = {name: _deploy_one(w3, account, name, admin, build_dir) for name in contracts}
    return Deployment(
        chain_id=int(w3.eth.chain_id),
        contracts=deployed,
        deployer=account.address,
        admin=admin,
        deployed_at=datetime.now(UTC).replace(microsecond=0),
    )


def verify_deployment(
    deployment: Deployment, w3: Web3, *, url: str, build_dir: Path | None = None
) -> None:
    """Raise unless the endpoint still holds exactly the recorded contracts."""
    chain_id = int(w3.eth.chain_id)
    if chain_id != deployment.chain_id:
        raise ChainIdMismatchError(expected=deployment.chain_id, actual=chain_id, url=url)
    for name, contract in deployment.contracts.items():
        if not w3.eth.get_code(Web3.to_checksum_address(contract.address)):
            raise DeploymentStaleError(address=contract.address, chain_id=chain_id)
        if load_artifact(name, build_dir=build_dir).abi_hash != contract.abi_hash:
            raise ContractsChangedError(name=name, address=contract.address, chain_id=chain_id)


def ensure_deployment(
    settings: Settings,
    w3: Web3,
    *,
    allow_deploy: bool,
    force: bool = False,
    admin: str | None = None,
    build_dir: Path | None = None,
) -> Deployment:
    """The verified recorded deployment; or a new one, saved, when allowed and needed.

    force redeploys even over a valid record (still only when allow_deploy). The managed chain
    always allows deploying; a remote endpoint only when asked (`lotlink deploy --deploy-remote`).
    """
    path = settings.deployment_file
    url = settings.effective_rpc_url
    recorded = None if force else load_deployment(path)
    if recorded is not None:
        verify_deployment(recorded, w3, url=url, build_dir=build_dir)
        return recorded
    if not allow_deploy:
        action = "redeploying" if force else "deploying"
        raise DeploymentMissingError(
            reason=f"none recorded in {path} and {action} to {url} was not asked for "
            "(run `lotlink deploy --deploy-remote`)"
        )
    account = deployer_account(settings)
    deployment = deploy(
        w3, deployer_key_or_account=account, admin=admin or account.address, build_dir=build_dir
    )
    save_deployment(deployment, path)
    return deployment
