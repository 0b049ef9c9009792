"""Whether an account held one of some roles at a past block, asked of any JSON-RPC node.

``hasRole`` called at block N needs the node to keep the state of block N. An archive node
does; a full node keeps about the last 128 blocks; anvil keeps a few thousand while it runs and
none from before its last start from a state file (see `lotlink.chain.node`). The contract changes
roles only through OpenZeppelin's ``_grantRole``/``_revokeRole``, which emit ``RoleGranted`` or
``RoleRevoked`` whenever a role changes hands, so the role at the end of block N is also what the
last of those logs up to block N says, and nodes keep logs for every block they keep. `RoleReader`
asks the state first and reads the logs only when the node has no state for the block.

The logs are checked against the role now (``hasRole`` at the latest block, which every node
answers): a node that forgot some logs cannot make a role appear held. When neither way gives an
answer, `RoleCheckUnavailableError` says why, in the node's own words. An endpoint that fails
outright (no connection, an HTTP error) raises as web3 does: one of NODE_ERRORS.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from requests import RequestException
from web3 import Web3
from web3.exceptions import Web3Exception, Web3RPCError

from lotlink.chain.compile import load_artifact
from lotlink.errors import LotlinkError
from lotlink.vocabulary import Role

ROLE_GRANTED = "0x" + keccak(text="RoleGranted(bytes32,address,address)").hex()
ROLE_REVOKED = "0x" + keccak(text="RoleRevoked(bytes32,address,address)").hex()

# Whatever a failing endpoint raises: a JSON-RPC error, an HTTP error, no connection at all.
NODE_ERRORS = (Web3Exception, RequestException)


class RoleCheckUnavailableError(LotlinkError):
    """Raised when the node can tell neither from its state at a block nor from the contract's
    role logs whether an account held a role then; verifiers report the check as not made."""

    def __init__(self, *, block: int, reason: str) -> None:
        super().__init__(reason)
        self.block = block
        self.reason = reason


def node_message(error: BaseException) -> str:
    """The node's own words for a failed request (the JSON-RPC error message when there is one)."""
    response = getattr(error, "rpc_response", None)
    if isinstance(response, dict) and isinstance(response.get("error"), dict):
        return str(response["error"].get("message") or response["error"])
    text = str(error) or type(error).__name__
    return text.splitlines()[0]


class RoleReader:
    """Role reads of one contract, each made once (a bundle names a few signers many times)."""

    def __init__(self, w3: Web3, address: str) -> None:
        self.w3 = w3
        self.contract = w3.eth.contract(
            address=to_checksum_address(address), abi=load_artifact("Lotlink").abi
        )
        self._at: dict[tuple[bytes, str, int], bool] = {}
        # (role, account) -> [(block, granted)] in chain order, or why the logs cannot be read
        self._history: dict[tuple[bytes, str], list[tuple[int, bool]] | str] = {}

    def held_any(self, roles: Iterable[Role], account: str, block: int) -> bool:
        """True when `account` held one of `roles` at the end of `block`. Raises
        RoleCheckUnavailableError when it held none the node can vouch for and the node cannot
        answer for some of them."""
        unavailable: RoleCheckUnavailableError | None = None
        for role in roles:
            try:
                if self.held(role.id, account, block):
                    return True
            except RoleCheckUnavailableError as error:
                unavailable = unavailable or error
        if unavailable is not None:
            raise unavailable
        return False

    def held(self, role_id: bytes, account: str, block: int) -> bool:
        """True when `account` held `role_id` at the end of `block` (see the module docstring)."""
        key = (role_id, account, block)
        if key not in self._at:
            try:
                answer = self.contract.functions.hasRole(role_id, account).call(
                    block_identifier=block
                )
            except Web3RPCError as error:  # the node answered, without the state
                self._at[key] = self._held_by_logs(role_id, account, block, node_message(error))
            else:
                self._at[key] = bool(answer)
        return self._at[key]

    def _held_by_logs(self, role_id: bytes, account: str, block: int, state_error: str) -> bool:
        history = self._role_history(role_id, account)
        if isinstance(history, str):
            raise RoleCheckUnavailableError(
                block=block,
                reason=f"the node keeps no state for block {block} ({state_error}) and {history}",
            )
        granted = [was_granted for at, was_granted in history if at <= block]
        return bool(granted) and granted[-1]

    def _role_history(self, role_id: bytes, account: str) -> list[tuple[int, bool]] | str:
        key = (role_id, account)
        if key not in self._history:
            self._history[key] = self._read_history(role_id, account)
        return self._history[key]

    def _read_history(self, role_id: bytes, account: str) -> list[tuple[int, bool]] | str:
        head = int(self.w3.eth.block_number)
        query: Any = {
            "address": self.contract.address,
            "fromBlock": 0,
            "toBlock": head,
            "topics": [
                [ROLE_GRANTED, ROLE_REVOKED],
                "0x" + bytes(role_id).hex(),
                "0x" + bytes(12).hex() + account.lower().removeprefix("0x"),
            ],
        }
        try:
            logs = self.w3.eth.get_logs(query)
            now = bool(
                self.contract.functions.hasRole(role_id, account).call(block_identifier=head)
            )
        except Web3RPCError as error:
            return f"refuses its RoleGranted/RoleRevoked logs ({node_message(error)})"
        ordered = sorted(
            logs,
            key=lambda log: (
                int(log["blockNumber"]),
                int(log["transactionIndex"]),
                int(log["logIndex"]),
            ),
        )
        history = [
            (int(log["blockNumber"]), HexBytes(log["topics"][0]).to_0x_hex() == ROLE_GRANTED)
            for log in ordered
        ]
        if (bool(history) and history[-1][1]) != now:
            return (
                "its RoleGranted/RoleRevoked logs do not lead to the role held now "
                "(the node's log history is incomplete)"
            )
        return history
