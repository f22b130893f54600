"""Entities: registry entries and states (snapshots), before and after a run."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.immich_autotag.const import DOMAIN

from .conftest import ENTRY_ID, setup_integration
from .entity_snapshot import assert_entities_match_snapshot


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "fake_runner")
@pytest.mark.parametrize("platform", [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SENSOR])
async def test_entities(
    hass: HomeAssistant,
    *,
    platform: Platform,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2026-11-29T10:00:00+00:00")
    with patch("custom_components.immich_autotag.PLATFORMS", [platform]):
        await setup_integration(hass, mock_config_entry)
    await hass.services.async_call(
        DOMAIN, "run", {"config_entry_id": ENTRY_ID}, blocking=True, return_response=True
    )
    await hass.async_block_till_done()
    assert_entities_match_snapshot(hass, entity_registry, snapshot, mock_config_entry.entry_id)


@pytest.mark.usefixtures("fake_runner")
async def test_entities_before_any_run(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """No report yet: counts and last-run sensors are unknown, status idle."""
    await setup_integration(hass, mock_config_entry)
    states = {
        s.entity_id: s.state
        for s in hass.states.async_all()
        if s.entity_id.endswith(("_assets", "_last_run", "_status", "_progress", "_running"))
    }
    assert states == {
        "sensor.immich_autotag_alice_assets": "unknown",
        "sensor.immich_autotag_alice_last_run": "unknown",
        "sensor.immich_autotag_alice_status": "idle",
        "sensor.immich_autotag_alice_progress": "unknown",
        "binary_sensor.immich_autotag_alice_running": "off",
    }
