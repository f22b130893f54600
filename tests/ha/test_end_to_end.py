"""The real runner through Home Assistant against the simulator: reauth and cancel mid-run."""

from __future__ import annotations

import json

import pytest
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.immich_autotag.const import DOMAIN, EVENT_RUN_FINISHED
from custom_components.immich_autotag.engine.progress import Progress, RunPhase
from custom_components.immich_autotag.storage import journal_path
from tests.sim.server import assert_no_violations

from .conftest import ENTRY_ID, SimServer, call_run, immich_entry, setup_integration, state_of


def _unknown_tagged(server: SimServer) -> set[str]:
    return {
        asset_id
        for asset_id in server.lib.assets
        if "autotag_output_unknown" in server.lib.asset_tags(asset_id)
    }


async def test_key_revoked_mid_run_starts_reauth(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    """A 401 during a run stops it with an auth error and asks the user for a new key."""
    await setup_integration(hass, mock_config_entry)
    sim_server.sim.faults.revoke_after = sim_server.sim.stats.authenticated_requests + 5
    with pytest.raises(HomeAssistantError):
        await call_run(hass)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert hass.states.get("sensor.immich_autotag_alice_status").state == "failed"  # type: ignore[union-attr]
    assert mock_config_entry.runtime_data.coordinator.last_report.error_kind == "auth"

    # The user creates a new key for the same Immich user and completes the reauth flow.
    sim_server.sim.faults.revoke_after = None
    new_key = sim_server.lib.add_api_key(sim_server.user)
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {CONF_API_KEY: new_key}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert mock_config_entry.data[CONF_API_KEY] == new_key
    done = await call_run(hass)
    assert done["status"] == "success"
    assert _unknown_tagged(sim_server) == set(sim_server.lib.assets)
    assert_no_violations(sim_server.sim)


async def test_cancelled_run_leaves_a_state_the_next_run_completes(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    """Cancel as soon as applying starts: partial work is valid and the next run finishes."""
    await setup_integration(hass, mock_config_entry)
    coordinator = mock_config_entry.runtime_data.coordinator
    events = async_capture_events(hass, EVENT_RUN_FINISHED)
    on_progress = coordinator._async_on_progress

    def cancel_when_applying(progress: Progress) -> None:
        on_progress(progress)
        if progress.phase is RunPhase.APPLYING:
            coordinator.async_cancel_run()

    coordinator._async_on_progress = cancel_when_applying
    cancelled = await call_run(hass)
    assert cancelled["status"] == "cancelled"
    assert events[-1].data["status"] == "cancelled"
    assert hass.states.get("sensor.immich_autotag_alice_status").state == "idle"  # type: ignore[union-attr]

    coordinator._async_on_progress = on_progress
    done = await call_run(hass)
    assert done["status"] == "success"
    assert _unknown_tagged(sim_server) == set(sim_server.lib.assets)
    # Every applied change is journaled next to HA's storage, one JSON object a line.
    lines = journal_path(hass, ENTRY_ID).read_text().splitlines()
    tagged = {i for line in lines for i in json.loads(line).get("ids", [])}
    assert set(sim_server.lib.assets) <= tagged
    again = await call_run(hass)
    assert again["changes_total"] == 0
    assert_no_violations(sim_server.sim)


async def test_end_to_end_with_simulator(hass: HomeAssistant, sim_server: SimServer) -> None:
    """The real runner against the simulator: a dry run plans, a run applies, a rerun is empty."""
    entry = immich_entry(sim_server.url, sim_server.key, sim_server.user.id, entry_id=ENTRY_ID)
    await setup_integration(hass, entry)
    dry = await call_run(hass, dry_run=True)
    assert dry["status"] == "success", dry
    assert dry["planned_changes_total"] == dry["changes_total"]
    assert isinstance(dry["changes_total"], int)
    assert dry["changes_total"] > 0
    assert sim_server.sim.stats.writes == 0
    done = await call_run(hass)
    assert done["status"] == "success", done
    assert sim_server.sim.stats.writes > 0
    again = await call_run(hass)
    assert again["changes_total"] == 0, again
    assert state_of(hass, "sensor.immich_autotag_alice_assets") == "3"
