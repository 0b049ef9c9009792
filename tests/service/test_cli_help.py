"""Every `lotlink` command and sub-command answers --help with its own description."""

from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from lotlink.cli import app


def _command_paths(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        paths.append(path)
        if hasattr(command, "commands"):
            paths.extend(_command_paths(command, path))
    return paths


def test_every_command_has_help() -> None:
    root = typer.main.get_command(app)
    paths = _command_paths(root)
    expected = {
        ("contracts", "compile"),
        ("chain", "up"),
        ("deploy",),
        ("db", "upgrade"),
        ("serve",),
        ("bench", "gas"),
    }
    assert expected <= set(paths)
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output
        command = root
        for name in path:
            command = command.commands[name]
        assert command.help, f"`lotlink {' '.join(path)}` has no description"
