"""`immich/` and `engine/` never import Home Assistant (and `engine/` never aiohttp)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "custom_components" / "immich_autotag"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def sources(sub: str) -> list[Path]:
    return sorted((PACKAGE / sub).rglob("*.py"))


@pytest.mark.parametrize("sub", ["immich", "engine"])
def test_no_homeassistant_import(sub: str) -> None:
    files = sources(sub)
    assert files, f"no sources under {sub}/"
    offenders = [
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in files
        for name in imported_modules(path)
        if name == "homeassistant" or name.startswith("homeassistant.")
    ]
    assert offenders == []


def test_engine_does_not_import_aiohttp() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in sources("engine")
        for name in imported_modules(path)
        if name.split(".")[0] == "aiohttp"
    ]
    assert offenders == []


def test_scanner_detects_imports(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import homeassistant.core\nfrom homeassistant.helpers import x\n")
    assert {"homeassistant.core", "homeassistant.helpers"} <= imported_modules(bad)
