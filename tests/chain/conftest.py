"""A throwaway contract set, compiled once per session into a temporary build directory.

It stands in for contracts/src so these tests exercise compile and deploy without depending
on (or slowly compiling) the real contracts.
"""

from __future__ import annotations

import pytest
from throwaway import Compiled, write_sources

from lotlink.chain.compile import compile_contracts


@pytest.fixture(scope="session")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Compiled:
    """The one compilation of the session (solcjs is slow)."""
    root = tmp_path_factory.mktemp("throwaway")
    source_dir = write_sources(root / "src")
    build_dir = root / "build"
    build_dir.mkdir()
    (build_dir / "Removed.json").write_text("{}\n")  # a contract that no longer exists
    result = compile_contracts(source_dir=source_dir, build_dir=build_dir)
    return Compiled(source_dir=source_dir, build_dir=build_dir, result=result)
