"""Compilation into artifacts, and the freshness check that keeps contracts/build honest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from throwaway import Compiled

from lotlink.chain.compile import (
    check_artifacts_fresh,
    compile_contracts,
    compiler_settings,
    load_artifact,
    open_compiler,
)
from lotlink.config import PROJECT_ROOT, Settings, get_settings
from lotlink.errors import ArtifactsStaleError, CompilerError, ToolchainMissingError


def test_only_deployable_contracts_of_the_sources_get_artifacts(compiled: Compiled) -> None:
    assert [artifact.name for artifact in compiled.result.artifacts] == ["Lotlink"]
    assert sorted(path.name for path in compiled.build_dir.iterdir()) == ["Lotlink.json"]


def test_artifact_carries_abi_bytecode_and_header(compiled: Compiled) -> None:
    text = (compiled.build_dir / "Lotlink.json").read_text()
    document = json.loads(text)
    assert text.endswith("}\n")
    assert text == json.dumps(document, indent=2, sort_keys=True) + "\n"
    assert document["sourceName"] == "src/Lotlink.sol"
    assert document["bytecode"].startswith("0x60")
    assert document["deployedBytecode"].startswith("0x60")
    assert {item.get("name") for item in document["abi"]} >= {"store", "stored", "kind"}
    header = document["header"]
    assert header["compiler"].startswith("0.8.30+commit.")
    assert header["settings"] == compiler_settings()
    assert header["settings"]["evmVersion"] == "prague"
    assert header["openzeppelin"] == "5.7.0"
    assert len(header["sources_hash"]) == 64


def test_load_artifact_round_trips(compiled: Compiled) -> None:
    artifact = load_artifact("Lotlink", build_dir=compiled.build_dir)
    assert artifact.to_json() == (compiled.build_dir / "Lotlink.json").read_text()
    assert len(artifact.abi_hash) == 64
    with pytest.raises(ArtifactsStaleError, match=r"Nothing\.json is missing"):
        load_artifact("Nothing", build_dir=compiled.build_dir)


def test_freshness_follows_the_sources(compiled: Compiled, tmp_path: Path) -> None:
    source_dir = tmp_path / "src"
    shutil.copytree(compiled.source_dir, source_dir)
    check_artifacts_fresh(source_dir=source_dir, build_dir=compiled.build_dir)

    (source_dir / "Extra.sol").write_text("// SPDX-License-Identifier: MIT\n")
    with pytest.raises(ArtifactsStaleError, match=r"Lotlink\.json was built from other sources"):
        check_artifacts_fresh(source_dir=source_dir, build_dir=compiled.build_dir)

    (source_dir / "Extra.sol").unlink()
    lotlink = source_dir / "Lotlink.sol"
    lotlink.write_text(lotlink.read_text().replace("_stored = newValue", "_stored = newValue + 1"))
    with pytest.raises(ArtifactsStaleError, match="run `lotlink contracts compile`"):
        check_artifacts_fresh(source_dir=source_dir, build_dir=compiled.build_dir)

    with pytest.raises(ArtifactsStaleError, match="no artifacts"):
        check_artifacts_fresh(source_dir=source_dir, build_dir=tmp_path / "empty")


def test_committed_artifacts_match_contracts_src() -> None:
    """Fails when someone edits contracts/src without running `lotlink contracts compile`."""
    settings = get_settings()
    if not any((settings.contracts_dir / "src").rglob("*.sol")):
        pytest.skip("contracts/src has no Solidity sources yet")
    artifacts = check_artifacts_fresh(settings=settings)
    assert "Lotlink" in {artifact.name for artifact in artifacts}


def test_solc_error_is_one_line_with_its_location(tmp_path: Path) -> None:
    source_dir = tmp_path / "src"
    source_dir.mkdir()
    (source_dir / "Broken.sol").write_text(
        "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\ncontract Broken { uint x }\n"
    )
    with pytest.raises(CompilerError) as raised:
        compile_contracts(source_dir=source_dir, build_dir=tmp_path / "build")
    message = str(raised.value)
    assert message.startswith("solc failed: ParserError: Expected ';'")
    assert "src/Broken.sol:3:" in message
    assert "\n" not in message


def test_missing_node_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither node nor solc
    settings = Settings(solc_binary=None, var_dir=tmp_path)
    with (
        pytest.raises(ToolchainMissingError, match=r"node is not available: .*npm ci"),
        open_compiler(settings),
    ):
        pass


def test_configured_solc_must_exist(tmp_path: Path) -> None:
    settings = Settings(solc_binary=tmp_path / "solc", var_dir=tmp_path)
    with pytest.raises(ToolchainMissingError, match="LOTLINK_SOLC_BINARY"), open_compiler(settings):
        pass


def test_project_root_holds_the_pinned_toolchain() -> None:
    package = json.loads((PROJECT_ROOT / "contracts" / "package.json").read_text())
    assert package["dependencies"]["solc"].startswith("0.8.")
