"""The documentation names what the code has: the module map and the key's permissions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from custom_components.immich_autotag.const import (
    OPTIONAL_PERMISSIONS,
    REQUIRED_PERMISSIONS,
    SLOW_READS,
)
from custom_components.immich_autotag.engine.permissions import WRITE_PERMISSIONS

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "custom_components" / "immich_autotag"
TICKED = re.compile(r"`([^`]+)`")


def _tables(markdown: str) -> dict[str, list[list[str]]]:
    """Each heading's first backticked word (a folder) -> the rows of its table (cells)."""
    tables: dict[str, list[list[str]]] = {}
    section: str | None = None
    for line in markdown.splitlines():
        if line.startswith("#"):
            ticked = TICKED.search(line)
            section = ticked.group(1) if ticked else None
            continue
        if section is None or not line.startswith("|") or set(line) <= set("|- "):
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0] not in {"File", "Folder"}:
            tables.setdefault(section, []).append(cells)
    return tables


def _named(rows: list[list[str]], *, first_column_only: bool = False) -> set[str]:
    """The files (and folders) a table names: its first column, and `.py` files it mentions."""
    names: set[str] = set()
    for first, *rest in rows:
        names.update(TICKED.findall(first))
        for cell in [] if first_column_only else rest:
            for word in TICKED.findall(cell):
                if first == "`phases/`":
                    names.add(f"phases/{word}.py")
                elif word.endswith(".py") and "/" not in word:
                    names.add(word)
    return names


def _modules(folder: Path, *, with_init: bool = False) -> set[str]:
    found = {
        str(path.relative_to(folder))
        for path in folder.rglob("*.py")
        if "__pycache__" not in path.parts and (with_init or path.name != "__init__.py")
    }
    return found | {"phases/"} if (folder / "phases").is_dir() else found


ARCHITECTURE = _tables((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))


@pytest.mark.parametrize("folder", ["cli/", "immich/", "engine/"])
def test_architecture_names_every_module_of_a_subpackage(folder: str) -> None:
    assert _named(ARCHITECTURE[folder]) == _modules(PACKAGE / folder.rstrip("/"))


def test_architecture_names_every_module_of_the_integration() -> None:
    top = {p.name for p in PACKAGE.glob("*.py")} | {"services.yaml"}
    assert _named(ARCHITECTURE["custom_components/immich_autotag/"]) == top


def test_architecture_names_every_test_folder() -> None:
    folders = {
        f"{path.name}/"
        for path in (ROOT / "tests").iterdir()
        if path.is_dir() and path.name != "__pycache__"
    }
    assert _named(ARCHITECTURE["tests/"], first_column_only=True) == folders


def test_readme_lists_the_required_and_optional_permissions() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    required = re.search(r"\*\*Required\*\*[^`]*`([^`]+)`", readme)
    assert required is not None
    assert set(required.group(1).split()) == REQUIRED_PERMISSIONS
    rows = dict(re.findall(r"^\| `([A-Za-z.]+)` \| (.+) \|$", readme, flags=re.MULTILINE))
    assert set(rows) == OPTIONAL_PERMISSIONS
    assert rows == {**WRITE_PERMISSIONS, "asset.statistics": SLOW_READS}
