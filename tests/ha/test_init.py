"""Setup, unload and setup errors against the simulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from homeassistant.components.repairs import ConfirmRepairFlow
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from homeassistant.loader import async_get_integration
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.immich_autotag.const import CONF_RULES, DOMAIN
from custom_components.immich_autotag.storage import journal_path, kept_journal_path

from .conftest import ENTRY_ID, SimServer, immich_entry, setup_integration


async def test_setup_and_unload(
    hass: HomeAssistant,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The entry loads with a service device and entities, then unloads cleanly."""
    await setup_integration(hass, mock_config_entry)
    assert mock_config_entry.state is ConfigEntryState.LOADED
    (device,) = dr.async_entries_for_config_entry(device_registry, ENTRY_ID)
    assert device.identifiers == {(DOMAIN, ENTRY_ID)}
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    assert device.sw_version == "v3.0.3"
    assert device.name == "Immich AutoTag (Alice)"
    assert hass.states.get("sensor.immich_autotag_alice_status").state == "idle"  # type: ignore[union-attr]
    assert hass.states.get("binary_sensor.immich_autotag_alice_running").state == "off"  # type: ignore[union-attr]
    assert len(issue_registry.issues) == 0
    # setup asked the server who we are: version, user, key
    requests = sim_server.sim.stats.requests
    assert requests["GET /server/version"] == 1
    assert requests["GET /users/me"] == 1
    assert requests["GET /api-keys/me"] == 1

    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.NOT_LOADED  # type: ignore[comparison-overlap]
    state = hass.states.get("sensor.immich_autotag_alice_status")  # type: ignore[unreachable]
    assert state is not None
    assert state.state == "unavailable"


async def test_setup_invalid_key_starts_reauth(hass: HomeAssistant, sim_server: SimServer) -> None:
    """401 at setup: the entry fails with auth and a reauth flow starts."""
    entry = immich_entry(sim_server.url, "revoked", sim_server.user.id)
    await setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert len(flows) == 1
    assert flows[0]["context"]["source"] == SOURCE_REAUTH
    assert flows[0]["context"]["entry_id"] == entry.entry_id


async def test_setup_permission_denied_starts_reauth(
    hass: HomeAssistant, sim_server: SimServer
) -> None:
    """A key that may not even read its user: reauth with a better key."""
    key = sim_server.lib.add_api_key(sim_server.user, permissions={"asset.read"})
    entry = immich_entry(sim_server.url, key, sim_server.user.id)
    await setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]


@pytest.mark.usefixtures("loopback")
async def test_setup_unreachable_retries(hass: HomeAssistant) -> None:
    """Nothing listens: setup is retried later."""
    entry = immich_entry("http://localhost:9", "k", "alice")
    await setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "Cannot connect to the Immich server" in str(entry.reason)


async def _setup_with_key(
    hass: HomeAssistant, sim_server: SimServer, permissions: set[str]
) -> MockConfigEntry:
    """Alice's entry, set up with a key that holds exactly `permissions`."""
    key = sim_server.lib.add_api_key(sim_server.user, permissions=permissions)
    entry = immich_entry(sim_server.url, key, sim_server.user.id, entry_id=ENTRY_ID)
    await setup_integration(hass, entry)
    return entry


def _permissions_issue(
    issue_registry: ir.IssueRegistry,
) -> tuple[ir.IssueSeverity | None, dict[str, str]]:
    """Severity and placeholders of the entry's `missing_permissions` issue."""
    issue = issue_registry.async_get_issue(DOMAIN, f"missing_permissions_{ENTRY_ID}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    return issue.severity, issue.translation_placeholders


async def test_missing_permissions_issue(
    hass: HomeAssistant, sim_server: SimServer, issue_registry: ir.IssueRegistry
) -> None:
    """A key without write permissions loads; a warning lists what is missing and what is off."""
    entry = await _setup_with_key(
        hass, sim_server, {"user.read", "asset.read", "tag.read", "album.read"}
    )
    assert entry.state is ConfigEntryState.LOADED
    severity, placeholders = _permissions_issue(issue_registry)
    assert severity is ir.IssueSeverity.WARNING
    assert "tag.asset" in placeholders["permissions"]
    assert "tag.read" not in placeholders["permissions"]
    assert "every run is a dry run" in placeholders["features"]

    # A better key (reauth) clears the issue at the next setup.
    await hass.config_entries.async_unload(entry.entry_id)
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_API_KEY: sim_server.key})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, f"missing_permissions_{ENTRY_ID}") is None


async def test_a_key_that_cannot_read_the_library_is_an_error_issue(
    hass: HomeAssistant, sim_server: SimServer, issue_registry: ir.IssueRegistry
) -> None:
    """Permissions taken away after set-up: the issue is an error naming the failing reads."""
    await _setup_with_key(hass, sim_server, {"user.read", "asset.read", "tag.asset"})
    severity, placeholders = _permissions_issue(issue_registry)
    assert severity is ir.IssueSeverity.ERROR
    assert "runs fail: the API key lacks album.read" in placeholders["features"]


async def test_invalid_rules_issue(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, issue_registry: ir.IssueRegistry
) -> None:
    """Stored rules that no longer validate: the entry loads and a repair issue says why."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_RULES: "bogus_key: 1\n"}
    )
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    issue = issue_registry.async_get_issue(DOMAIN, f"invalid_rules_{ENTRY_ID}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert "bogus_key" in issue.translation_placeholders["error"]


async def test_remove_entry_forgets_storage_but_keeps_the_journal(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, object],
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Reports and cache go; the journal (the record to undo from) moves and is named."""
    assert await async_setup_component(hass, "persistent_notification", {})
    await setup_integration(hass, mock_config_entry)
    hass_storage[f"{DOMAIN}.{ENTRY_ID}.reports"] = {"version": 1, "data": {"reports": []}}
    journal = journal_path(hass, ENTRY_ID)
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text('{"kind": "tag_add"}\n')
    kept = kept_journal_path(hass, ENTRY_ID)
    try:
        assert await hass.config_entries.async_remove(mock_config_entry.entry_id)
        await hass.async_block_till_done()
        assert f"{DOMAIN}.{ENTRY_ID}.reports" not in hass_storage
        assert not journal.exists()
        assert kept.read_text() == '{"kind": "tag_add"}\n'
        assert kept == Path(hass.config.path("immich_autotag", f"journal-{ENTRY_ID}.jsonl"))
    finally:
        kept.unlink(missing_ok=True)
    client = await hass_ws_client()
    await client.send_json_auto_id({"type": "persistent_notification/get"})
    notes = (await client.receive_json())["result"]
    (note,) = [n for n in notes if n["notification_id"] == f"{DOMAIN}_{ENTRY_ID}_removed"]
    assert str(kept) in note["message"]
    assert "immich_autotag.clean_up" in note["message"]


async def test_repairs_platform_scan_accepts_the_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """HA's repairs integration loads a `repairs` module as a platform that must offer fix flows.

    Home Assistant scans for it eagerly (2025.x) or lazily (2026.x); either way the module
    name decides: `repairs.py` is that platform, with `async_create_fix_flow` giving the
    renamed-outputs flow for that issue and HA's plain confirmation for any other id.
    """
    await setup_integration(hass, mock_config_entry)
    assert await async_setup_component(hass, "repairs", {})
    integration = await async_get_integration(hass, DOMAIN)
    assert integration.platforms_exists(["repairs"]) == ["repairs"]
    platform = await integration.async_get_platform("repairs")
    data = {"entry_id": ENTRY_ID}
    renamed = await platform.async_create_fix_flow(hass, f"renamed_outputs_{ENTRY_ID}", data)
    assert type(renamed).__name__ == "RenamedOutputsFlow"
    other = await platform.async_create_fix_flow(hass, f"invalid_rules_{ENTRY_ID}", None)
    assert type(other) is ConfirmRepairFlow
