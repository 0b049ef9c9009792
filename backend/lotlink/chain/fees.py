"""EIP-1559 fees for a transaction meant for the next few blocks: twice the head's base fee plus
a tip, as web3.py prices one.

The tip is the node's ``eth_maxPriorityFeePerGas`` (anvil, geth, Erigon, Besu and Nethermind
answer it). It is not in the Ethereum JSON-RPC specification, so for a node that refuses it the
tip comes, as in web3.py, from ``eth_feeHistory``: the 5th percentile of the last ten blocks'
rewards, kept between 1 and 1.5 gwei (web3's own estimate and bounds).
"""

from __future__ import annotations

from typing import Any

from web3._utils.fee_utils import (
    PRIORITY_FEE_HISTORY_PARAMS,
    _fee_history_priority_fee_estimate,
)

from lotlink.chain.rpc import RpcClient
from lotlink.errors import ChainRpcError

#: The calls whose answers `fees_from` prices a transaction from, to send in one batch.
FEE_CALLS: tuple[tuple[str, list[Any]], ...] = (
    ("eth_getBlockByNumber", ["latest", False]),
    ("eth_maxPriorityFeePerGas", []),
)


def fees_from(rpc: RpcClient, block: Any, priority: Any) -> tuple[int, int]:
    """(max fee, priority fee) per gas from the answers to `FEE_CALLS` (a settled batch: an
    answer may be its ChainRpcError), asking `rpc` for the fee history when the node refused
    the tip."""
    if isinstance(block, ChainRpcError):
        raise block
    if not isinstance(priority, ChainRpcError):
        tip = int(priority, 16)
    elif priority.code is not None:  # the node answered, refusing the method
        tip = _tip_from_history(rpc)
    else:  # the endpoint failed: not the node's answer
        raise priority
    return 2 * int(block.get("baseFeePerGas") or "0x0", 16) + tip, tip


def _tip_from_history(rpc: RpcClient) -> int:
    blocks, newest, percentiles = PRIORITY_FEE_HISTORY_PARAMS
    history = rpc.call("eth_feeHistory", [hex(blocks), newest, percentiles])
    rewards = [[int(reward, 16) for reward in block] for block in history.get("reward") or []]
    return int(_fee_history_priority_fee_estimate({"reward": rewards}))  # type: ignore[typeddict-item]
