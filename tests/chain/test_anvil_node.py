"""The managed anvil: start, stop, restart from its state file, and the failures a user sees."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from throwaway import Compiled

from fixtures.anvil import anvil_settings, free_port, start_test_anvil
from lotlink.chain.deploy import ensure_deployment
from lotlink.chain.node import connect, find_anvil, port_in_use, start_anvil
from lotlink.config import Settings
from lotlink.errors import ChainStartError, ChainUnavailableError, ToolchainMissingError


def test_starts_answers_and_stops_cleanly(tmp_path: Path) -> None:
    with start_test_anvil(tmp_path) as process:
        w3 = process.web3()
        assert w3.eth.chain_id == 31337
        assert port_in_use(process.host, process.port)
    assert process.process.returncode == 0  # SIGTERM, not SIGKILL
    assert not port_in_use(process.host, process.port)
    assert process.state_file == tmp_path / "chain" / "state.json"
    assert process.state_file.is_file()  # dumped on the way out
    assert (tmp_path / "chain" / "anvil.log").is_file()


def test_restart_keeps_blocks_code_and_deployment(compiled: Compiled, tmp_path: Path) -> None:
    with start_test_anvil(tmp_path) as first:
        settings = anvil_settings(tmp_path, port=first.port)
        deployment = ensure_deployment(
            settings, first.web3(), allow_deploy=True, build_dir=compiled.build_dir
        )
        first.web3().provider.make_request("anvil_mine", ["0x3"])
        head = first.web3().eth.block_number

    with start_test_anvil(tmp_path) as second:
        settings = anvil_settings(tmp_path, port=second.port)
        w3 = second.web3()
        assert w3.eth.block_number == head
        assert w3.eth.get_code(deployment.address()) != b""
        again = ensure_deployment(settings, w3, allow_deploy=False, build_dir=compiled.build_dir)
    assert again == deployment


def test_port_in_use_is_refused_before_starting(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = anvil_settings(tmp_path, port=port)
        with pytest.raises(ChainStartError) as raised:
            start_anvil(settings)
    assert f"port {port} on 127.0.0.1 is already in use" in str(raised.value)
    assert not (tmp_path / "chain" / "anvil.log").exists()  # anvil was never launched


def test_connect_to_silent_endpoint_is_unavailable(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(var_dir=tmp_path, rpc_url=f"http://127.0.0.1:{port}")
    with pytest.raises(ChainUnavailableError, match=f"127.0.0.1:{port} does not answer") as raised:
        connect(settings)
    assert raised.value.retryable


def test_missing_anvil_names_the_fix(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, contracts_dir=tmp_path / "contracts")
    with pytest.raises(ToolchainMissingError, match=r"anvil is not available: .*npm ci"):
        find_anvil(settings)
