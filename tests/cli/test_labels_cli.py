"""`lotlink labels` as a supplier runs it: a sheet for a registered lot; one line for anything else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fixtures.writepath import WritePath, gtin
from lotlink.vocabulary import Role


def _labels(write_path: WritePath, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LOTLINK_DATABASE_URL": write_path.settings.effective_database_url,
        "LOTLINK_PUBLIC_BASE_URL": "https://scan.example",
    }
    return subprocess.run(
        [sys.executable, "-m", "lotlink.cli", "labels", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_labels_for_a_registered_lot_and_its_serials(write_path: WritePath, tmp_path: Path) -> None:
    supplier = write_path.actor(Role.SUPPLIER)
    product = gtin(7)
    write_path.lot(supplier, product, "IF-2026-11-A")
    out = tmp_path / "sheet.pdf"
    result = _labels(
        write_path, f"{product}/IF-2026-11-A", "--serials", "0001-0024", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert f"24 label(s) for https://scan.example/01/{product}/10/IF-2026-11-A" in result.stdout
    assert out.read_bytes().startswith(b"%PDF-")
    svg = tmp_path / "sheet.svg"
    result = _labels(
        write_path,
        f"https://scan.example/01/{product}/10/IF-2026-11-A",
        "--format",
        "svg",
        "--out",
        str(svg),
    )
    assert result.returncode == 0, result.stderr
    assert "(10) IF-2026-11-A" in svg.read_text()


def test_an_unregistered_lot_or_a_bad_link_is_one_line(write_path: WritePath) -> None:
    for args, expected in [
        ([f"{gtin(8)}/NOPE"], "no lot 'NOPE' of GTIN"),
        (["09521234543214/L1"], "check digit"),
        ([f"{gtin(8)}/L1", "--serials", "9-1"], "runs backwards"),
    ]:
        result = _labels(write_path, *args)
        assert result.returncode == 1
        assert expected in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
