"""The service's own keys: the contracts' admin and the relayer that pays gas.

On the managed chain they are anvil's funded development accounts (first: deployer and admin;
second: relayer); on any other endpoint they must be configured, never guessed.
"""

from __future__ import annotations

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import SecretStr

from lotlink.chain.deploy import deployer_account
from lotlink.chain.node import dev_accounts
from lotlink.config import Settings
from lotlink.errors import ServiceKeyMissingError


def _from_setting(key: SecretStr | None, *, setting: str, settings: Settings) -> LocalAccount:
    if key is None:
        raise ServiceKeyMissingError(setting=setting, url=settings.effective_rpc_url)
    try:
        account: LocalAccount = Account.from_key(key.get_secret_value())
    except (ValueError, TypeError):
        raise ServiceKeyMissingError(setting=setting, url=settings.effective_rpc_url) from None
    return account


def admin_account(settings: Settings) -> LocalAccount:
    """The key holding the contracts' admin role: the deployer unless LOTLINK_ADMIN_KEY is set."""
    if settings.admin_key is not None:
        return _from_setting(settings.admin_key, setting="LOTLINK_ADMIN_KEY", settings=settings)
    return deployer_account(settings)


def relayer_account(settings: Settings) -> LocalAccount:
    """The key that sends the service's transactions and holds the anchorer role."""
    if settings.relayer_key is None and settings.managed_chain:
        return dev_accounts(2)[1]
    return _from_setting(settings.relayer_key, setting="LOTLINK_RELAYER_KEY", settings=settings)
