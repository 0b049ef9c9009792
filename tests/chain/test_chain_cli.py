"""The `lotlink` commands of the chain work, run as a user runs them: one line on failure."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from throwaway import Compiled
from typer.testing import CliRunner

from fixtures.anvil import AnvilChain, free_port
from lotlink.chain.deploy import DeployedContract, Deployment, load_deployment, save_deployment
from lotlink.chain.node import port_in_use
from lotlink.cli import app
from lotlink.config import get_settings

LOTLINK = [sys.executable, "-c", "from lotlink.cli import main; main()"]


def _env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """The caller's environment without any LOTLINK_ setting, plus the given ones."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOTLINK_")}
    env["LOTLINK_VAR_DIR"] = str(var_dir)
    env.update({f"LOTLINK_{key.upper()}": value for key, value in overrides.items()})
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LOTLINK, *args], env=env, capture_output=True, text=True, timeout=120)


def _assert_one_line_failure(result: subprocess.CompletedProcess[str], *parts: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lotlink: ")
    for part in parts:
        assert part in lines[0]


@pytest.mark.parametrize(
    "command", [["chain", "up"], ["deploy"], ["contracts", "compile"], ["contracts", "check"]]
)
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage: lotlink" in result.output


def test_chain_up_on_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = _run(["chain", "up"], _env(tmp_path, anvil_port=str(port)))
    _assert_one_line_failure(result, f"port {port} on 127.0.0.1 is already in use")


def test_chain_up_runs_until_sigterm_and_keeps_its_state(tmp_path: Path) -> None:
    port = free_port()
    with subprocess.Popen(
        [*LOTLINK, "chain", "up"],
        env=_env(tmp_path, anvil_port=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None and process.stderr is not None
            banner = process.stdout.readline()
            assert f"anvil is up at http://127.0.0.1:{port} (chain id 31337" in banner
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
            assert "Traceback" not in process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()
    assert (tmp_path / "chain" / "state.json").is_file()
    assert not port_in_use("127.0.0.1", port)


def test_deploy_starts_the_managed_chain_deploys_once_and_stops_it(
    compiled: Compiled, tmp_path: Path
) -> None:
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    (contracts / "node_modules").symlink_to(get_settings().node_modules)
    (contracts / "build").symlink_to(compiled.build_dir)
    env = _env(tmp_path / "var", contracts_dir=str(contracts), anvil_port=str(free_port()))

    first = _run(["deploy"], env)
    assert first.returncode == 0, first.stderr
    deployment = load_deployment(tmp_path / "var" / "deployment.json")
    assert deployment is not None
    assert f"Lotlink at {deployment.address()} on chain 31337" in first.stdout

    second = _run(["deploy"], env)  # anvil restarted from its state: same deployment
    assert second.returncode == 0, second.stderr
    assert load_deployment(tmp_path / "var" / "deployment.json") == deployment


def test_deploy_against_another_chain_id(anvil: AnvilChain, tmp_path: Path) -> None:
    recorded = Deployment(
        chain_id=1,
        contracts={
            "Lotlink": DeployedContract(
                address="0x" + "22" * 20, block=1, tx_hash="0x" + "33" * 32, abi_hash="0" * 64
            )
        },
        deployer="0x" + "44" * 20,
        admin="0x" + "44" * 20,
        deployed_at="2026-01-01T00:00:00Z",
    )
    save_deployment(recorded, tmp_path / "deployment.json")
    result = _run(["deploy"], _env(tmp_path, rpc_url=anvil.url))
    _assert_one_line_failure(
        result, "chain id mismatch", "chain 1", f"{anvil.url} reports chain 31337"
    )


def test_compile_without_node(tmp_path: Path) -> None:
    env = _env(tmp_path)
    env["PATH"] = str(tmp_path)  # no node, no solc
    result = _run(["contracts", "compile"], env)
    _assert_one_line_failure(result, "node is not available", "npm ci")
