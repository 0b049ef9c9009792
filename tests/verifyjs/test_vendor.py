"""The verifier is self-contained: vendored libraries as shipped (with licences), no remote code."""

from __future__ import annotations

import re

from .conftest import STATIC, run_node
from .vendor_noble import VENDOR, expected_files


def test_vendored_noble_files_equal_their_npm_originals() -> None:
    expected = expected_files()
    assert any(path.name == "secp256k1.js" for path in expected)
    for path, text in expected.items():
        assert path.read_text(encoding="utf-8") == text, path
    present = {p for p in VENDOR.rglob("*") if p.is_file()}
    assert present == set(expected)


def test_modules_import_nothing_remote() -> None:
    # static imports and re-exports at the start of a line (JSDoc examples are not code)
    specifier = re.compile(
        r"""^\s*(?:(?:import|export)\s[^;'"=(){}]*?(?:\{[^}]*\})?[^;'"=(){}]*?\bfrom|import)\s*['"]([^'"]+)""",
        re.M,
    )
    found = 0
    for path in STATIC.rglob("*.js"):
        text = path.read_text(encoding="utf-8")
        assert "import(" not in text.replace("await import(", ""), path
        for name in specifier.findall(text):
            found += 1
            assert name.startswith(("./", "../")), (path, name)
    assert found > 30


def test_the_dom_module_loads_without_a_document() -> None:
    # verify.js only wires itself when a document exists; importing it must not throw.
    (result,) = run_node("eval_module.mjs", [{"id": 1, "fn": "selectors"}])
    assert "value" in result
    done = run_node("check_batch.mjs", [])
    assert done == []
