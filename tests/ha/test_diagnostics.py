"""Diagnostics: redaction (the key and the server never appear) and content."""

from __future__ import annotations

import json

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.immich_autotag.const import CONF_RULES, DOMAIN

from .conftest import ENTRY_ID, SimServer, setup_integration

RULES = """
classification:
  rules:
    - {tag_names: [family], album_name_patterns: ['^\\d{4}']}
album_permissions:
  enabled: true
  user_groups: [{name: family, members: [mum@secret.example]}]
  selection_rules: [{name: share, keyword: family, groups: [family], access: view}]
"""


@pytest.mark.usefixtures("fake_runner")
async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(mock_config_entry, options={CONF_RULES: RULES})
    await setup_integration(hass, mock_config_entry)
    await hass.services.async_call(
        DOMAIN, "run", {"config_entry_id": ENTRY_ID}, blocking=True, return_response=True
    )
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, mock_config_entry)
    text = json.dumps(diagnostics)
    for secret in (sim_server.key, sim_server.url, "localhost", "secret.example", "Alice"):
        assert secret not in text
    assert diagnostics["options"]["rules"]["classification_rules"] == 1
    assert diagnostics["options"]["rules"]["album_permissions"]["enabled"] is True
    for private in ("family", "mum@", "share"):  # group, member, rule names
        assert private not in text
    assert diagnostics["last_report"]["status"] == "success"
    assert diagnostics["limiter"]["max_concurrency"] == 32
    assert diagnostics["limiter"]["concurrency"] == 8  # where the adaptive limit starts
    assert diagnostics["requests"]["total"] == 3  # version, users/me, api-keys/me
    # Those three go at once; how many overlap depends on how fast the first answer is.
    assert 1 <= diagnostics["limiter"]["max_in_flight_seen"] <= 3
    assert diagnostics == snapshot(
        exclude=props(
            "created_at",
            "modified_at",
            "entry_id",
            "started_at",
            "finished_at",
            "max_in_flight_seen",
        )
    )


async def test_diagnostics_invalid_rules(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mock_config_entry: MockConfigEntry,
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_RULES: "a: 1\nbogus: [\n"}
    )
    await setup_integration(hass, mock_config_entry)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, mock_config_entry)
    rules = diagnostics["options"]["rules"]
    assert rules["valid"] is False
    assert rules["custom"] is True
    assert rules["error_line"] is not None
    assert diagnostics["last_report"] is None
