"""A run you can read (issue 18): result at a glance, logbook, notifications, cancel, naming."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.immich_autotag.const import CONF_NOTIFY, DOMAIN
from custom_components.immich_autotag.engine.report import RunStatus

from .conftest import ENTRY_ID, call_run, setup_integration, state_of, wait_idle
from .fake_runner import FakeRunner

RESULT = "sensor.immich_autotag_alice_last_run_result"


async def _translations(hass: HomeAssistant) -> dict[str, str]:
    return await async_get_translations(hass, "en", "entity", [DOMAIN])


@pytest.mark.usefixtures("loaded_entry")
async def test_dry_run_and_real_run_look_different(
    hass: HomeAssistant, fake_runner: FakeRunner, mock_config_entry: MockConfigEntry
) -> None:
    """The result sensor says "Dry run (nothing changed)" or "Applied"; its attributes differ."""
    await call_run(hass, dry_run=True)
    dry = hass.states.get(RESULT)
    assert dry is not None
    assert dry.state == "dry_run"
    assert dry.attributes["dry_run"] is True
    assert dry.attributes["tag_add"] == 4
    listed = dry.attributes["planned_changes"]
    assert len(listed) == 6
    assert listed[0]["url"] == f"{mock_config_entry.data['url']}/photos/{listed[0]['asset_id']}"
    assert all(i["target_url"].endswith("/tags?path=x") for i in listed if i["kind"] == "tag_add")
    assert state_of(hass, "sensor.immich_autotag_alice_last_run_changes") == "6"
    # the library counts say they describe the library as the dry run would leave it
    unclassified = hass.states.get("sensor.immich_autotag_alice_unclassified")
    assert unclassified is not None
    assert unclassified.attributes["basis"] == "after_dry_run"
    assert unclassified.attributes["unit_of_measurement"] == "assets"

    await call_run(hass)
    real = hass.states.get(RESULT)
    assert real is not None
    assert real.state == "applied"
    assert real.attributes["dry_run"] is False
    assert "planned_changes" not in real.attributes
    unclassified = hass.states.get("sensor.immich_autotag_alice_unclassified")
    assert unclassified is not None
    assert unclassified.attributes["basis"] == "after_run"

    names = await _translations(hass)
    prefix = f"component.{DOMAIN}.entity.sensor.last_run_result"
    assert names[f"{prefix}.state.dry_run"] == "Dry run (nothing changed)"
    assert names[f"{prefix}.state.applied"] == "Applied"
    assert names[f"{prefix}.state_attributes.tag_add.name"] == "Tags added to assets"
    for attribute in real.attributes:  # every attribute the sensor sets has a readable name
        if attribute not in {"device_class", "friendly_name", "icon", "options"}:
            assert f"{prefix}.state_attributes.{attribute}.name" in names, attribute


@pytest.mark.usefixtures("loaded_entry")
@pytest.mark.parametrize(
    ("status", "dry_run", "result"),
    [
        (RunStatus.PARTIAL, False, "partial"),
        (RunStatus.FAILED, False, "failed"),
        (RunStatus.FAILED, True, "dry_run_failed"),
    ],
)
async def test_result_of_failed_and_partial_runs(
    hass: HomeAssistant, fake_runner: FakeRunner, status: RunStatus, *, dry_run: bool, result: str
) -> None:
    fake_runner.status = status
    await hass.services.async_call(
        DOMAIN, "run", {"config_entry_id": ENTRY_ID, "dry_run": dry_run}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_of(hass, RESULT) == result


async def _notifications(hass_ws_client: WebSocketGenerator) -> list[dict[str, Any]]:
    client = await hass_ws_client()
    await client.send_json_auto_id({"type": "persistent_notification/get"})
    response = await client.receive_json()
    assert response["success"]
    return [n for n in response["result"] if n["notification_id"].startswith(DOMAIN)]


async def test_notification_when_a_run_needs_attention(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    mock_config_entry: MockConfigEntry,
    fake_runner: FakeRunner,
) -> None:
    """Opt-in: a failed run, a partial run and new conflicts notify; a clean re-run does not."""
    assert await async_setup_component(hass, "persistent_notification", {})
    mock_config_entry.add_to_hass(hass)
    await setup_integration(hass, mock_config_entry)
    await call_run(hass)  # option off: the first run's conflict notifies nobody
    assert await _notifications(hass_ws_client) == []

    hass.config_entries.async_update_entry(mock_config_entry, options={CONF_NOTIFY: True})
    await call_run(hass)  # same conflicts as before: nothing new
    assert await _notifications(hass_ws_client) == []

    fake_runner.status = RunStatus.FAILED
    await hass.services.async_call(DOMAIN, "run", {"config_entry_id": ENTRY_ID}, blocking=True)
    await hass.async_block_till_done(wait_background_tasks=True)
    (note,) = await _notifications(hass_ws_client)
    assert note["title"] == "Immich AutoTag (Alice)"
    assert note["message"].startswith("The run failed.")
    assert "failed after 6 changes: boom" in note["message"]

    fake_runner.status = RunStatus.PARTIAL
    await call_run(hass)
    (note,) = await _notifications(hass_ws_client)  # replaced, not piled up
    assert note["message"].startswith("Some changes could not be applied")


async def test_cancel_button_and_progress(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """Cancel sits beside Run and Dry run, only while a run is in progress; no stale %."""
    cancel = "button.immich_autotag_alice_cancel_run"
    assert state_of(hass, cancel) == "unavailable"
    fake_runner.hold = asyncio.Event()
    fake_runner.ticks = 3
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.immich_autotag_alice_run"}, blocking=True
    )
    await fake_runner.started.wait()
    await hass.async_block_till_done()
    assert state_of(hass, cancel) != "unavailable"
    await hass.services.async_call("button", "press", {"entity_id": cancel}, blocking=True)
    assert state_of(hass, "sensor.immich_autotag_alice_status") == "cancelling"
    fake_runner.hold.set()
    await wait_idle(hass, loaded_entry)
    assert state_of(hass, "sensor.immich_autotag_alice_status") == "idle"
    assert state_of(hass, "sensor.immich_autotag_alice_progress") == "0.0"
    assert state_of(hass, RESULT) == "cancelled"
    assert state_of(hass, cancel) == "unavailable"


async def test_existing_entity_ids_are_kept(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    fake_runner: FakeRunner,
) -> None:
    """Entries set up before the device was renamed keep their entity ids; new ones get new."""
    mock_config_entry.add_to_hass(hass)
    unique_id = mock_config_entry.unique_id
    entity_registry.async_get_or_create(
        Platform.SENSOR,
        DOMAIN,
        f"{unique_id}_status",
        config_entry=mock_config_entry,
        suggested_object_id="alice_status",
    )
    await setup_integration(hass, mock_config_entry)
    assert state_of(hass, "sensor.alice_status") == "idle"
    assert hass.states.get("sensor.immich_autotag_alice_status") is None
    assert state_of(hass, "sensor.immich_autotag_alice_progress") == "unknown"
    assert fake_runner.calls == []
