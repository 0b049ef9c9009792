"""Throwaway Solidity sources standing in for contracts/src in the chain tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lotlink.chain.compile import CompileResult

LOTLINK_SOL = """\
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IStore} from "./interfaces/IStore.sol";
import {Base} from "./Base.sol";

/// A stand-in with the real contract's constructor.
contract Lotlink is AccessControl, Base, IStore {
    uint256 private _stored;

    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function store(uint256 newValue) external {
        _stored = newValue;
    }

    function stored() external view returns (uint256) {
        return _stored;
    }
}
"""

BASE_SOL = """\
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

abstract contract Base {
    function kind() external pure returns (string memory) {
        return "throwaway";
    }
}
"""

ISTORE_SOL = """\
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IStore {
    function store(uint256 newValue) external;
    function stored() external view returns (uint256);
}
"""


@dataclass(frozen=True)
class Compiled:
    """The throwaway sources, where they were built, and what the compiler said."""

    source_dir: Path
    build_dir: Path
    result: CompileResult


def write_sources(source_dir: Path) -> Path:
    (source_dir / "interfaces").mkdir(parents=True, exist_ok=True)
    (source_dir / "Lotlink.sol").write_text(LOTLINK_SOL)
    (source_dir / "Base.sol").write_text(BASE_SOL)
    (source_dir / "interfaces" / "IStore.sol").write_text(ISTORE_SOL)
    return source_dir
