"""ensure_deployment: deploy once, then trust the record only while the endpoint agrees with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from throwaway import Compiled

from fixtures.anvil import AnvilChain
from lotlink.chain.deploy import (
    deploy,
    ensure_deployment,
    load_deployment,
    save_deployment,
)
from lotlink.chain.node import dev_accounts
from lotlink.config import Settings
from lotlink.errors import (
    ChainIdMismatchError,
    ContractsChangedError,
    DeployerKeyMissingError,
    DeploymentMissingError,
    DeploymentStaleError,
)


def _remote(chain: AnvilChain, var_dir: Path, key: str | None = None) -> Settings:
    """Settings that treat the session anvil as a remote LOTLINK_RPC_URL endpoint."""
    return Settings(var_dir=var_dir, rpc_url=chain.url, deployer_key=key)


def test_managed_chain_deploys_with_the_first_dev_account(
    chain: AnvilChain, compiled: Compiled, tmp_path: Path
) -> None:
    settings = Settings(var_dir=tmp_path, rpc_url=None, anvil_port=chain.process.port)
    deployment = ensure_deployment(
        settings, chain.w3, allow_deploy=True, build_dir=compiled.build_dir
    )
    assert deployment.chain_id == 31337
    assert deployment.deployer == dev_accounts(1)[0].address
    assert deployment.admin == deployment.deployer
    record = deployment.contracts["Lotlink"]
    receipt = chain.w3.eth.get_transaction_receipt(record.tx_hash)
    assert receipt["contractAddress"] == record.address
    assert receipt["blockNumber"] == record.block == deployment.start_block()
    assert load_deployment(settings.deployment_file) == deployment


def test_remote_deploys_only_when_asked_and_then_reuses(
    chain: AnvilChain, compiled: Compiled, tmp_path: Path
) -> None:
    settings = _remote(chain, tmp_path, key=chain.private_keys[2])
    with pytest.raises(DeploymentMissingError, match="--deploy-remote"):
        ensure_deployment(settings, chain.w3, allow_deploy=False, build_dir=compiled.build_dir)
    admin = chain.addresses[3]
    first = ensure_deployment(
        settings, chain.w3, allow_deploy=True, admin=admin, build_dir=compiled.build_dir
    )
    assert first.deployer == chain.addresses[2]
    assert first.admin == admin
    again = ensure_deployment(settings, chain.w3, allow_deploy=False, build_dir=compiled.build_dir)
    assert again == first
    forced = ensure_deployment(
        settings, chain.w3, allow_deploy=True, force=True, build_dir=compiled.build_dir
    )
    assert forced.address() != first.address()


def test_remote_without_a_key_is_refused(
    chain: AnvilChain, compiled: Compiled, tmp_path: Path
) -> None:
    with pytest.raises(DeployerKeyMissingError, match="LOTLINK_DEPLOYER_KEY"):
        ensure_deployment(
            _remote(chain, tmp_path), chain.w3, allow_deploy=True, build_dir=compiled.build_dir
        )


def _recorded(
    chain: AnvilChain,
    compiled: Compiled,
    tmp_path: Path,
    *,
    chain_id: int | None = None,
    address: str | None = None,
    abi_hash: str | None = None,
) -> Settings:
    """A real deployment on the session chain, recorded with one fact altered."""
    deployment = deploy(
        chain.w3,
        deployer_key_or_account=chain.private_keys[0],
        admin=chain.addresses[0],
        build_dir=compiled.build_dir,
    )
    contract = deployment.contracts["Lotlink"]
    contract = contract.model_copy(
        update={"address": address or contract.address, "abi_hash": abi_hash or contract.abi_hash}
    )
    altered = deployment.model_copy(
        update={"contracts": {"Lotlink": contract}, "chain_id": chain_id or deployment.chain_id}
    )
    settings = _remote(chain, tmp_path)
    save_deployment(altered, settings.deployment_file)
    return settings


def test_chain_id_mismatch(chain: AnvilChain, compiled: Compiled, tmp_path: Path) -> None:
    settings = _recorded(chain, compiled, tmp_path, chain_id=11155111)
    with pytest.raises(ChainIdMismatchError) as raised:
        ensure_deployment(settings, chain.w3, allow_deploy=True, build_dir=compiled.build_dir)
    assert (raised.value.expected, raised.value.actual) == (11155111, 31337)
    assert chain.url in str(raised.value)


def test_no_code_at_the_address_is_stale(
    chain: AnvilChain, compiled: Compiled, tmp_path: Path
) -> None:
    settings = _recorded(chain, compiled, tmp_path, address="0x" + "11" * 20)
    with pytest.raises(DeploymentStaleError, match="has no code on chain 31337"):
        ensure_deployment(settings, chain.w3, allow_deploy=True, build_dir=compiled.build_dir)


def test_changed_abi_is_reported(chain: AnvilChain, compiled: Compiled, tmp_path: Path) -> None:
    settings = _recorded(chain, compiled, tmp_path, abi_hash="0" * 64)
    with pytest.raises(ContractsChangedError, match=r"Lotlink changed since its deployment"):
        ensure_deployment(settings, chain.w3, allow_deploy=False, build_dir=compiled.build_dir)


_base_nonce: dict[str, int] = {}


def test_chain_fixture_lets_a_test_change_the_chain(chain: AnvilChain) -> None:
    sender = chain.accounts[5]
    _base_nonce[sender.address] = chain.w3.eth.get_transaction_count(sender.address)
    transaction = {
        "to": chain.addresses[6],
        "value": 1,
        "gas": 21_000,
        "gasPrice": chain.w3.eth.gas_price,
        "nonce": _base_nonce[sender.address],
        "chainId": chain.chain_id,
    }
    sent = chain.w3.eth.send_raw_transaction(sender.sign_transaction(transaction).raw_transaction)
    # Mined before the count is read: anvil may answer the send before its block is sealed.
    chain.w3.eth.wait_for_transaction_receipt(sent, timeout=30)
    assert chain.w3.eth.get_transaction_count(sender.address) == _base_nonce[sender.address] + 1


def test_chain_fixture_reverted_the_previous_test(chain: AnvilChain) -> None:
    """Runs after the test above (file order): its transfer is gone."""
    if not _base_nonce:
        pytest.skip("meaningful only after test_chain_fixture_lets_a_test_change_the_chain")
    for address, nonce in _base_nonce.items():
        assert chain.w3.eth.get_transaction_count(address) == nonce
