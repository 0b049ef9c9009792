"""Re-vendor @noble/hashes and @noble/curves (secp256k1 + keccak only) for the browser verifier.

Run from the repository root: ``.venv/bin/python tests/verifyjs/vendor_noble.py``. Copies the
ESM builds from ``contracts/node_modules`` (installed there as dependencies of the contracts'
tooling), with their MIT licences, into ``backend/lotlink/web/static/verify/vendor/``. The only
change is mechanical: bare ``@noble/hashes/x`` imports become relative ``../../noble-hashes/x.js``
paths (browsers resolve no bare specifiers without an import map) and source-map comments go.
`test_vendor.py` checks the vendored files still equal this transformation of the originals.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "contracts" / "node_modules" / "@noble"
VENDOR = ROOT / "backend" / "lotlink" / "web" / "static" / "verify" / "vendor"

PACKAGES = {
    "hashes": ["sha3.js", "_u64.js", "utils.js", "crypto.js", "sha2.js", "_md.js", "hmac.js"],
    "curves": [
        "secp256k1.js",
        "_shortw_utils.js",
        "abstract/weierstrass.js",
        "abstract/modular.js",
        "abstract/utils.js",
        "abstract/curve.js",
        "abstract/hash-to-curve.js",
    ],
}
_BARE = re.compile(r"""(from\s+['"])@noble/hashes/([\w.-]+)(['"])""")
_MAP = re.compile(r"^//# sourceMappingURL=.*$\n?", re.MULTILINE)


def transformed(package: str, relative: str) -> str | None:
    """The vendored text of one file, or None if the package does not ship it."""
    source = MODULES / package / "esm" / relative
    if not source.exists():
        return None
    text = source.read_text(encoding="utf-8")
    depth = relative.count("/")
    prefix = "./" * (depth == 0) + "../" * depth if package == "hashes" else "../" * (depth + 1)
    prefix += "" if package == "hashes" else "noble-hashes/"
    text = _BARE.sub(lambda m: f"{m[1]}{prefix}{m[2]}.js{m[3]}", text)
    return _MAP.sub("", text)


def expected_files() -> dict[Path, str]:
    files: dict[Path, str] = {}
    for package, names in PACKAGES.items():
        target = VENDOR / f"noble-{package}"
        meta = json.loads((MODULES / package / "package.json").read_text())
        files[target / "LICENSE"] = (MODULES / package / "LICENSE").read_text(encoding="utf-8")
        files[target / "VERSION"] = f"@noble/{package} {meta['version']} (esm build)\n"
        for name in names:
            text = transformed(package, name)
            if text is not None:
                files[target / name] = text
    return files


def main() -> int:
    for path, text in expected_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
