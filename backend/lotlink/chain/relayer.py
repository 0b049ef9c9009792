"""The relayer: the one account that sends the service's transactions and pays their gas.

Actors sign; the relayer carries. Its nonces are handed out one at a time, so two writers (an
API request and the anchorer) can never race for the same nonce. Within a process a lock
serialises them and the next nonce is remembered. Processes of one machine that send from the
same account (the service's web workers, its background worker, `lotlink anchorer` beside it)
also hold an exclusive ``flock`` on a file named after the account while they claim and send,
and re-read the nonce from the node under it: another process may have used the one remembered.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.exceptions import Web3RPCError
from web3.types import TxReceipt

from lotlink.chain.accounts import relayer_account
from lotlink.chain.contract import LotlinkContract
from lotlink.chain.typed_data import Authorization
from lotlink.config import Settings
from lotlink.errors import ChainRpcError


class Relayer:
    """Sends `LotlinkContract` writes from `account`, serialised, with its own nonce sequence."""

    def __init__(
        self, contract: LotlinkContract, account: LocalAccount, *, lock_dir: Path | None = None
    ) -> None:
        self.contract = contract
        self.account = account
        self._lock = threading.Lock()
        self._next_nonce: int | None = None
        # Shared with the machine's other processes sending from this account (see above).
        self._lock_file = (
            None if lock_dir is None else lock_dir / f"relayer-{account.address.lower()}.lock"
        )

    @classmethod
    def of_service(cls, settings: Settings, contract: LotlinkContract) -> Relayer:
        """The service's relayer (`LOTLINK_RELAYER_KEY`), its lock file under the var dir."""
        return cls(contract, relayer_account(settings), lock_dir=settings.var_dir)

    @contextmanager
    def _held(self) -> Iterator[None]:
        """The relayer, for this thread alone and, with a lock file, this process alone."""
        with self._lock:
            if self._lock_file is None:
                yield
                return
            self._lock_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # released by close, or by the holder's death
                self._next_nonce = None  # another process may have sent since
                yield
            finally:
                os.close(fd)

    @property
    def address(self) -> str:
        return str(self.account.address)

    def send(
        self, function: str, *args: Any, auth: Authorization, gas: int | None = None
    ) -> TxReceipt:
        """Sends `function(*args, auth)` and waits for it to be mined.

        A call the contract would reject raises `ContractRevertError` before anything is sent,
        and its nonce is not spent. A nonce the node has seen already (another process used
        this account) is re-read from the chain and the send retried once.
        """
        with self._held():
            for attempt in (1, 2):
                nonce = self._claim_nonce()
                try:
                    receipt = self.contract.transact(
                        function, *args, auth.as_tuple(), sender=self.account, nonce=nonce, gas=gas
                    )
                except Web3RPCError as error:
                    self._next_nonce = None  # re-read from the chain
                    if attempt == 2 or "nonce" not in str(error).lower():
                        raise
                    continue
                except BaseException:
                    # Estimation failed before sending, or the wait broke off: re-read next time.
                    self._next_nonce = None
                    raise
                self._next_nonce = nonce + 1
                return receipt
        raise AssertionError("unreachable")

    @contextmanager
    def nonce_slot(self, *also: tuple[str, list[Any]]) -> Iterator[NonceSlot]:
        """Holds the relayer for one transaction its caller signs and broadcasts itself.

        The slot offers the next nonce; `slot.spent()` once the transaction may have reached the
        node, so the next write takes the following nonce. Any other exit re-reads the nonce
        from the chain next time, so a failed broadcast leaves no gap.

        `also`: JSON-RPC calls the caller needs answered under the slot (fees, a gas estimate),
        asked in the same request as the nonce when it is read; their answers are on
        `slot.answers`, a `ChainRpcError` in the place of a call the endpoint refused.
        """
        with self._held():
            answers: list[Any] = []
            if self._next_nonce is None and also:
                pending, *answers = self.contract.rpc.batch(
                    [self._pending_nonce_call(), *also], settled=True
                )
                if isinstance(pending, ChainRpcError):
                    raise pending
                self._next_nonce = int(pending, 16)
            elif also:
                answers = self.contract.rpc.batch(list(also), settled=True)
            slot = NonceSlot(self._claim_nonce(), answers)
            try:
                yield slot
            except BaseException:
                self._next_nonce = None
                raise
            self._next_nonce = slot.nonce + 1 if slot.used else None

    def forget_nonce(self) -> None:
        """Re-read the nonce from the chain before the next write (another sender used it)."""
        with self._lock:
            self._next_nonce = None

    def _pending_nonce_call(self) -> tuple[str, list[Any]]:
        return ("eth_getTransactionCount", [self.account.address, "pending"])

    def _claim_nonce(self) -> int:
        if self._next_nonce is None:
            # Through the lean client: with a lock file this is read again for every write.
            self._next_nonce = int(self.contract.rpc.call(*self._pending_nonce_call()), 16)
        return self._next_nonce


class NonceSlot:
    """The nonce a `Relayer.nonce_slot` hands out, the answers to the calls asked with it, and
    whether the caller spent it."""

    def __init__(self, nonce: int, answers: list[Any] | None = None) -> None:
        self.nonce = nonce
        self.answers = answers or []
        self.used = False

    def spent(self) -> None:
        self.used = True
