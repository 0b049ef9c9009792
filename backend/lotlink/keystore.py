"""Custodial actors' keys: one encrypted keystore (Web3 Secret Storage, scrypt) per actor.

Keystores live in ``settings.keys_dir`` as ``<address>.json`` (lowercase, mode 0600), encrypted
with LOTLINK_KEYSTORE_PASSWORD. On the managed development chain, when that is unset, a random
passphrase is generated once into ``keys_dir/passphrase`` (mode 0600): fine for a laptop, never
for a remote chain, where the setting is required.

Decrypting a keystore costs a deliberately slow scrypt, so decrypted accounts are cached for the
life of the process, keyed by the keystore's path.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import is_address, to_checksum_address

from lotlink.config import Settings
from lotlink.errors import KeystoreError, KeystorePasswordMissingError

PASSPHRASE_FILE = "passphrase"

_cache: dict[str, LocalAccount] = {}
_cache_lock = threading.Lock()


def keystore_path(settings: Settings, address: str) -> Path:
    """Where the keystore of `address` lives (whether or not it exists)."""
    if not is_address(address):
        raise KeystoreError(path=str(settings.keys_dir), reason=f"{address!r} is not an address")
    return settings.keys_dir / f"{address.lower()}.json"


def keystore_passphrase(settings: Settings) -> str:
    """The passphrase of this deployment's keystores (see the module docstring)."""
    if settings.keystore_password is not None:
        return settings.keystore_password.get_secret_value()
    if not settings.managed_chain:
        raise KeystorePasswordMissingError()
    path = settings.keys_dir / PASSPHRASE_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    _private_dir(settings.keys_dir)
    passphrase = secrets.token_urlsafe(32)
    try:
        _write_private(path, passphrase + "\n", exclusive=True)
    except FileExistsError:  # another process generated it first: use theirs
        return path.read_text().strip()
    return passphrase


def create_custodial_account(settings: Settings) -> LocalAccount:
    """A new random account whose encrypted keystore is written under ``keys_dir``."""
    account: LocalAccount = Account.create()
    keystore = Account.encrypt(
        account.key, keystore_passphrase(settings), iterations=settings.keystore_scrypt_n
    )
    path = keystore_path(settings, account.address)
    _private_dir(settings.keys_dir)
    _write_private(path, json.dumps(keystore), exclusive=True)
    with _cache_lock:
        _cache[str(path)] = account
    return account


def load_custodial_account(settings: Settings, address: str) -> LocalAccount:
    """The account of the custodial actor `address`, decrypted from its keystore (cached)."""
    path = keystore_path(settings, address)
    with _cache_lock:
        cached = _cache.get(str(path))
    if cached is not None:
        return cached
    account = load_keystore_file(path, keystore_passphrase(settings))
    if account.address != to_checksum_address(address):
        raise KeystoreError(path=str(path), reason=f"holds the key of {account.address}")
    with _cache_lock:
        _cache[str(path)] = account
    return account


def load_keystore_file(path: Path, passphrase: str) -> LocalAccount:
    """Decrypts the keystore file at `path` (any Web3 Secret Storage file, e.g. from geth)."""
    try:
        keystore = json.loads(path.read_text())
    except FileNotFoundError:
        raise KeystoreError(path=str(path), reason="does not exist") from None
    except (OSError, ValueError) as error:
        raise KeystoreError(path=str(path), reason=f"cannot be read ({error})") from None
    try:
        key = Account.decrypt(keystore, passphrase)
    except ValueError:
        raise KeystoreError(path=str(path), reason="wrong passphrase") from None
    except (KeyError, TypeError) as error:
        raise KeystoreError(path=str(path), reason=f"is not a keystore ({error})") from None
    account: LocalAccount = Account.from_key(key)
    return account


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _write_private(path: Path, text: str, *, exclusive: bool) -> None:
    """Writes `text` to a file only its owner can read; `exclusive` refuses to overwrite."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
