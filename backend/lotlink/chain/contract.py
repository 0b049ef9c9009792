"""A typed client for the deployed Lotlink contract: sends signed transactions, decodes reverts.

Transactions are signed locally (never `eth_sendTransaction`), so the same code drives anvil and
any production endpoint. A revert comes back as `ContractRevertError` carrying the custom error's
name and arguments, decoded from the ABI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError
from web3.types import TxReceipt

from lotlink.chain.rpc import RpcClient
from lotlink.chain.typed_data import TYPES, Authorization, Domain
from lotlink.errors import ChainRpcError, LotlinkError


class ContractRevertError(LotlinkError):
    """Raised when the contract rejects a call; `error_name` and `error_args` come from its ABI."""

    def __init__(self, *, function: str, error_name: str, error_args: dict[str, Any]) -> None:
        shown = ", ".join(f"{k}={_show(v)}" for k, v in error_args.items())
        super().__init__(f"the contract rejected {function}: {error_name}({shown})")
        self.function = function
        self.error_name = error_name
        self.error_args = error_args


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


@dataclass(frozen=True, slots=True)
class _ErrorAbi:
    name: str
    names: list[str]
    types: list[str]


def _abi_type(item: dict[str, Any]) -> str:
    """The canonical ABI type of one parameter, tuples expanded."""
    kind = str(item["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in item["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


class ErrorDecoder:
    """Maps revert data to (name, arguments) using every custom error in an ABI."""

    def __init__(self, abi: Sequence[dict[str, Any]]) -> None:
        self._by_selector: dict[bytes, _ErrorAbi] = {}
        for item in abi:
            if item.get("type") != "error":
                continue
            types = [_abi_type(i) for i in item["inputs"]]
            signature = f"{item['name']}({','.join(types)})"
            self._by_selector[function_signature_to_4byte_selector(signature)] = _ErrorAbi(
                item["name"], [i["name"] for i in item["inputs"]], types
            )

    def decode(self, data: bytes) -> tuple[str, dict[str, Any]]:
        known = self._by_selector.get(data[:4])
        if known is None:
            return ("UnknownRevert", {"data": data})
        values = abi_decode(known.types, data[4:])
        return (known.name, dict(zip(known.names, values, strict=True)))


def _revert_data(error: Exception) -> bytes | None:
    """The raw revert data web3 attached to `error`, if any."""
    data = getattr(error, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    if isinstance(data, dict):  # some endpoints nest it
        inner = data.get("data")
        if isinstance(inner, str) and inner.startswith("0x"):
            return bytes.fromhex(inner[2:])
    return None


def _function_encoders(abi: Sequence[dict[str, Any]]) -> dict[str, tuple[bytes, list[str]]]:
    """Selector and argument types of each function whose name is not overloaded."""
    functions = [item for item in abi if item.get("type") == "function"]
    names = [item["name"] for item in functions]
    encoders = {}
    for item in functions:
        if names.count(item["name"]) > 1:
            continue
        types = [_abi_type(i) for i in item["inputs"]]
        selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
        encoders[item["name"]] = (selector, types)
    return encoders


class LotlinkContract:
    """One Lotlink deployment on one endpoint."""

    def __init__(self, w3: Web3, address: str, abi: Sequence[dict[str, Any]]) -> None:
        self.w3 = w3
        self.address = to_checksum_address(address)
        self.abi = list(abi)
        self.contract = w3.eth.contract(address=self.address, abi=self.abi)
        self.errors = ErrorDecoder(self.abi)
        self._output_counts = {
            item["name"]: len(item.get("outputs", []))
            for item in self.abi
            if item.get("type") == "function"
        }
        self._encoders = _function_encoders(self.abi)
        self._chain_id: int | None = None

    @cached_property
    def rpc(self) -> RpcClient:
        """A lean JSON-RPC client of the same endpoint, with the same timeout, for the calls
        made per batch or per write (see `lotlink.chain.rpc`)."""
        provider = self.w3.provider
        timeout = dict(provider.get_request_kwargs()).get("timeout", 30)  # type: ignore[attr-defined]
        return RpcClient(str(provider.endpoint_uri), timeout=float(timeout))  # type: ignore[attr-defined]

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    @property
    def domain(self) -> Domain:
        """The EIP-712 domain signatures for this deployment are made in."""
        return Domain(chain_id=self.chain_id, verifying_contract=self.address)

    def nonce(self, signer: str, key: int = 0) -> int:
        """The next relayed-write nonce of `signer` in the sequence `key` (keyed nonces)."""
        if key == 0:
            return int(self.call("nonces", signer))
        return int(self.call("nonces", signer, key))

    def sign_write(
        self,
        function: str,
        *args: Any,
        signer: LocalAccount,
        deadline: int,
        nonce: int | None = None,
    ) -> Authorization:
        """`signer`'s authorization of `function(*args)`, for anyone to relay before `deadline`.

        Each write's EIP-712 struct lists the function's arguments in order (a single struct
        argument is spread into its fields), followed by nonce and deadline.
        """
        primary_type = function[0].upper() + function[1:]
        fields = [name for name, _ in TYPES[primary_type] if name not in ("nonce", "deadline")]
        values = list(args[0]) if len(args) == 1 and isinstance(args[0], tuple) else list(args)
        if len(values) != len(fields):
            raise ValueError(f"{function} takes {len(fields)} values to sign, got {len(values)}")
        return Authorization.signed(
            signer,
            primary_type,
            dict(zip(fields, values, strict=True)),
            self.domain,
            nonce=self.nonce(signer.address) if nonce is None else nonce,
            deadline=deadline,
        )

    def call(self, function: str, *args: Any, block: int | str = "latest") -> Any:
        """A view call; several outputs come as a tuple; reverts raise `ContractRevertError`."""
        try:
            result = getattr(self.contract.functions, function)(*args).call(block_identifier=block)
        except (ContractCustomError, ContractLogicError) as error:
            raise self._revert(function, error) from None
        if self._output_counts.get(function, 0) > 1:
            return tuple(result)
        return result

    def encode(self, function: str, *args: Any) -> bytes:
        """The calldata of `function(*args)`: its selector and arguments, both prepared once
        from the ABI (web3's `encode_abi` looks the function up again on every call, hashing
        each signature of the ABI: about 3 ms). An overloaded name goes through web3."""
        prepared = self._encoders.get(function)
        if prepared is None:
            return bytes.fromhex(self.contract.encode_abi(function, args=list(args))[2:])
        selector, types = prepared
        return selector + abi_encode(types, args)

    def estimate_gas(self, function: str, *args: Any, sender: str) -> int:
        """Gas `sender` needs for `function(*args)`; a call the contract would reject raises
        `ContractRevertError` (nothing is sent)."""
        fn = getattr(self.contract.functions, function)(*args)
        try:
            return int(fn.estimate_gas({"from": sender}))
        except (ContractCustomError, ContractLogicError) as error:
            raise self._revert(function, error) from None

    def transact(
        self,
        function: str,
        *args: Any,
        sender: LocalAccount,
        gas: int | None = None,
        nonce: int | None = None,
    ) -> TxReceipt:
        """Signs and sends a call from `sender`, waits for it to be mined, returns the receipt.

        Gas is estimated first, so a call the contract would reject raises `ContractRevertError`
        before anything is sent.
        """
        fn = getattr(self.contract.functions, function)(*args)
        try:
            tx = fn.build_transaction(
                {
                    "from": sender.address,
                    "nonce": nonce
                    if nonce is not None
                    else self.w3.eth.get_transaction_count(sender.address, "pending"),
                    "chainId": self.chain_id,
                    **({"gas": gas} if gas is not None else {}),
                }
            )
        except (ContractCustomError, ContractLogicError, Web3RPCError) as error:
            raise self._revert(function, error) from None
        signed = sender.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.05)
        if receipt["status"] != 1:
            raise ContractRevertError(
                function=function, error_name="TransactionFailed", error_args={"tx": tx_hash}
            )
        return receipt

    def events(self, receipt: TxReceipt, name: str) -> list[dict[str, Any]]:
        """The decoded `name` events of this contract in `receipt`, arguments as a dict each."""
        event = getattr(self.contract.events, name)()
        decoded = []
        for log in receipt["logs"]:
            if log["address"] != self.address:
                continue
            try:
                decoded.append(dict(event.process_log(log)["args"]))
            except Exception:  # another event of the same contract
                continue
        return decoded

    def revert_in(self, function: str, error: ChainRpcError) -> ContractRevertError | None:
        """The contract's refusal an endpoint's JSON-RPC error reports (eth_call,
        eth_estimateGas), or None when the error is about something else."""
        if _revert_data(error) is None and "revert" not in error.reason.lower():
            return None
        return self._revert(function, error)

    def _revert(self, function: str, error: Exception) -> ContractRevertError:
        data = _revert_data(error)
        if data is None or len(data) < 4:
            return ContractRevertError(
                function=function, error_name="Reverted", error_args={"reason": str(error)}
            )
        name, args = self.errors.decode(data)
        return ContractRevertError(function=function, error_name=name, error_args=args)


__all__ = ["Authorization", "ContractRevertError", "ErrorDecoder", "LotlinkContract"]
