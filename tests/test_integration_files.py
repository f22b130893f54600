"""The files Home Assistant's hassfest and HACS validate, checked offline (CI runs the real ones).

Also keeps hacs.json and the README naming the Home Assistant releases the test stacks run:
the pinned stack (requirements_constraints.txt) is the oldest, requirements_latest.txt the newest.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "custom_components" / "immich_autotag"


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _pinned_ha(requirements: str) -> str:
    match = re.search(r"^homeassistant==(\S+)$", (ROOT / requirements).read_text(), re.MULTILINE)
    assert match, f"{requirements} pins no homeassistant"
    return match.group(1)


def test_manifest_keys_and_order() -> None:
    """hassfest: domain, name, then the other keys sorted; what a custom integration needs."""
    manifest = _json(PACKAGE / "manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    required = {"codeowners", "config_flow", "documentation", "integration_type", "iot_class"}
    assert required | {"version", "issue_tracker", "requirements"} <= set(keys)
    assert manifest["domain"] == PACKAGE.name
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+[<>=!~].+", r) for r in manifest["requirements"])


def test_translations_are_the_strings() -> None:
    """A custom integration is translated from translations/en.json: it must equal strings.json."""
    assert _json(PACKAGE / "translations" / "en.json") == _json(PACKAGE / "strings.json")


def test_every_service_and_field_is_named_and_has_an_icon() -> None:
    services = yaml.safe_load((PACKAGE / "services.yaml").read_text())
    strings = _json(PACKAGE / "strings.json")["services"]
    icons = _json(PACKAGE / "icons.json")["services"]
    assert set(services) == set(strings) == set(icons)
    for name, service in services.items():
        assert strings[name]["name"]
        assert strings[name]["description"]
        assert icons[name]["service"].startswith("mdi:")
        for field in service.get("fields", {}):
            assert strings[name]["fields"][field]["name"]
            assert strings[name]["fields"][field]["description"]


def test_hacs_json_names_the_oldest_tested_release() -> None:
    hacs = _json(ROOT / "hacs.json")
    assert set(hacs) <= {"name", "homeassistant", "render_readme", "zip_release", "filename"}
    assert hacs["name"] == _json(PACKAGE / "manifest.json")["name"]
    assert hacs["homeassistant"] == _pinned_ha("requirements_constraints.txt")


def test_readme_names_the_tested_releases() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    oldest = _pinned_ha("requirements_constraints.txt")
    newest = _pinned_ha("requirements_latest.txt")
    assert f"{oldest} \N{EN DASH} {newest} tested" in readme
