"""One version: manifest.json (HACS), pyproject (pip), `immich-autotag --version` and the
changelog's newest release agree."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from custom_components.immich_autotag.cli.arguments import parse_args
from custom_components.immich_autotag.cli.version import MANIFEST, version

ROOT = Path(__file__).resolve().parents[2]


def manifest_version() -> str:
    return str(json.loads(MANIFEST.read_text(encoding="utf-8"))["version"])


def test_the_cli_prints_the_manifest_version() -> None:
    assert MANIFEST == ROOT / "custom_components" / "immich_autotag" / "manifest.json"
    assert version() == manifest_version()
    done = subprocess.run(
        [sys.executable, "-m", "custom_components.immich_autotag", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == f"immich-autotag {manifest_version()}"


def test_pyproject_takes_its_version_from_the_manifest() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["dynamic"] == ["version"]
    assert "version" not in pyproject["project"]
    source = pyproject["tool"]["hatch"]["version"]
    assert ROOT / source["path"] == MANIFEST
    match = re.search(source["pattern"], MANIFEST.read_text(encoding="utf-8"))
    assert match is not None
    assert match.group("version") == manifest_version()


def test_the_changelog_names_the_version_as_its_newest_release() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", text, flags=re.MULTILINE)
    assert releases, "CHANGELOG.md has no release entry"
    assert releases[0] == manifest_version()


def test_version_is_semantic() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest_version())
    assert parse_args(["--url", "http://x", "--api-key", "k"]).url == "http://x"
