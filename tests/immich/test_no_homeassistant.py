"""`immich/`, `engine/` and `cli/` never import Home Assistant (and `engine/` never aiohttp).

They are what `pip install .` ships as `immich_autotag` (pyproject.toml): their relative imports
must stay among them, since the integration's own modules are not in the wheel.
"""

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


SHIPPED = ("immich", "engine", "cli")


@pytest.mark.parametrize("sub", SHIPPED)
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


OUTSIDE = "<above the integration>"


def relative_targets(path: Path, root: Path = PACKAGE) -> set[str]:
    """Modules a file imports with `from .x import y`, as dotted paths from `root`.

    An import that climbs above `root` (more dots than the file is deep) starts with OUTSIDE.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = path.relative_to(root).with_suffix("").parts
    package = here if path.name == "__init__.py" else here[:-1]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            keep = len(package) - node.level + 1
            base = package[:keep] if keep >= 0 else (OUTSIDE,)
            module = (*base, *(node.module.split(".") if node.module else ()))
            targets.update(".".join((*module, alias.name)) for alias in node.names)
    return targets


@pytest.mark.parametrize("sub", SHIPPED)
def test_relative_imports_stay_in_the_shipped_packages(sub: str) -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}: {target}"
        for path in sources(sub)
        for target in relative_targets(path)
        if target.split(".")[0] not in SHIPPED
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("from ... import const", "const"),
        ("from ...coordinator import run", "coordinator.run"),
        ("from ....immich_autotag import const", f"{OUTSIDE}.immich_autotag.const"),
        ("from ..... import x", f"{OUTSIDE}.x"),
    ],
)
def test_relative_import_scanner_sees_every_climb(tmp_path: Path, source: str, target: str) -> None:
    """From engine/phases/, three dots reach the HA shell; more leave the integration."""
    phase = tmp_path / "engine" / "phases" / "x.py"
    phase.parent.mkdir(parents=True)
    phase.write_text(source + "\n")
    assert relative_targets(phase, tmp_path) == {target}
    assert target.split(".", maxsplit=1)[0] not in SHIPPED


def test_relative_import_scanner(tmp_path: Path) -> None:
    inside = PACKAGE / "cli" / "main.py"
    assert "engine.runner.run" in relative_targets(inside)
    assert all(t.split(".")[0] in SHIPPED for t in relative_targets(inside))
    assert "const.DOMAIN" in {
        t for t in relative_targets(PACKAGE / "coordinator.py") if t.startswith("const")
    }
