"""The manifest's requirements install under Home Assistant's package constraints.

Home Assistant pip-installs a custom integration's requirements with its own
`package_constraints.txt`; a requirement that contradicts a pin there fails to install. This
checks the installed Home Assistant (2025.4.4 in the test stack); newer releases no longer pin
`regex` at all (the pin was removed in August 2024), so a lower bound fits both.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import homeassistant
from packaging.requirements import Requirement

MANIFEST = Path(__file__).resolve().parents[2] / "custom_components/immich_autotag/manifest.json"


def _constraints() -> dict[str, Requirement]:
    path = Path(homeassistant.__file__).parent / "package_constraints.txt"
    pins: dict[str, Requirement] = {}
    for line in path.read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            requirement = Requirement(text)
            pins[requirement.name.lower()] = requirement
    return pins


def test_requirements_fit_home_assistants_constraints() -> None:
    requirements = [Requirement(r) for r in json.loads(MANIFEST.read_text())["requirements"]]
    assert [r.name for r in requirements] == ["regex"]
    pins = _constraints()
    for requirement in requirements:
        pin = pins.get(requirement.name.lower())
        if pin is not None:  # the pinned version must satisfy ours
            pinned = {s.version for s in pin.specifier if s.operator == "=="}
            assert all(requirement.specifier.contains(v) for v in pinned), (requirement, pin)
        installed = metadata.version(requirement.name)
        assert requirement.specifier.contains(installed), (requirement, installed)
