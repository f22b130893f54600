"""Logbook: each finished run described in words (issue 18.2), through HA's logbook API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from homeassistant.components.logbook.const import DOMAIN as LOGBOOK_DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.immich_autotag.const import DOMAIN
from custom_components.immich_autotag.engine.report import RunStatus

from .conftest import call_run, setup_integration
from .fake_runner import FakeRunner

RESULT = "sensor.immich_autotag_alice_last_run_result"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: object,  # the recorder must start before Home Assistant
    enable_custom_integrations: None,
) -> None:
    """The recorder (for the logbook), then custom integrations."""


async def test_logbook_describes_each_run(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mock_config_entry: MockConfigEntry,
    fake_runner: FakeRunner,
) -> None:
    """The logbook says what a run did, in words, under the device's name."""
    hass.config.components.add("frontend")  # the logbook's dependency; its UI is not needed
    assert await async_setup_component(hass, LOGBOOK_DOMAIN, {})
    start = dt_util.utcnow() - timedelta(seconds=1)
    await setup_integration(hass, mock_config_entry)
    await call_run(hass, dry_run=True)
    await call_run(hass)
    fake_runner.status = RunStatus.PARTIAL
    await call_run(hass)
    await async_wait_recording_done(hass)

    client = await hass_client()
    response = await client.get(f"/api/logbook/{start.isoformat()}")
    assert response.status == 200
    entries: list[dict[str, Any]] = await response.json()
    runs = [e for e in entries if e.get("domain") == DOMAIN]
    assert [(e["name"], e["message"], e.get("entity_id")) for e in runs] == [
        (
            "Immich AutoTag (Alice)",
            "dry run: 6 changes planned, nothing written, 1 conflict",
            RESULT,
        ),
        ("Immich AutoTag (Alice)", "applied 6 changes, 0 failed, 1 conflict", RESULT),
        ("Immich AutoTag (Alice)", "partly applied: 6 changes, 0 failed, 1 conflict", RESULT),
    ]
