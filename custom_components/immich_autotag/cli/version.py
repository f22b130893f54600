"""The release version: the one in manifest.json, shared by HACS, pyproject and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

# In the repository (and in Home Assistant) manifest.json sits beside engine/, immich/ and
# cli/; the wheel ships a copy at the same place (pyproject.toml).
MANIFEST = Path(__file__).resolve().parents[1] / "manifest.json"


def version() -> str:
    """The version in manifest.json."""
    return str(json.loads(MANIFEST.read_text(encoding="utf-8"))["version"])
