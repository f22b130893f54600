"""Renamed output tags through Home Assistant: found after a rules change (response and repair
issue), planned by a dry run, moved by the issue's fix flow, and gone from the next run."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.immich_autotag.const import CONF_RULES, DOMAIN

from .conftest import ENTRY_ID, SimServer, call_run, state_of, wait_idle

ISSUE = f"renamed_outputs_{ENTRY_ID}"
RESULT = "sensor.immich_autotag_alice_last_run_result"
# Names of their own, not the defaults: the old one is known only from the stored report.
FIRST = "classification:\n  autotag_unknown: unclassified/first\n"
RENAMED = "classification:\n  autotag_unknown: unclassified/second\n"


def _tags(sim_server: SimServer) -> dict[str, set[str]]:
    """Each of Alice's assets' tags, by file name."""
    lib = sim_server.lib
    return {a.file_name: lib.asset_tags(a.id) for a in lib.assets.values()}


async def _set_up_with_first_rules(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_RULES: FIRST})
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def _fix(hass: HomeAssistant, hass_client: ClientSessionGenerator) -> dict[str, Any]:
    """The issue's fix flow as the frontend drives it: open, read, submit."""
    assert await async_setup_component(hass, "repairs", {})
    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": ISSUE}
    )
    assert response.status == 200
    form = await response.json()
    assert form["type"] == "form"
    assert form["step_id"] == "confirm"
    tags = form["description_placeholders"]["tags"]
    assert tags == "- `unclassified/first` → `unclassified/second`: 3 assets"
    response = await client.post(f"/api/repairs/issues/fix/{form['flow_id']}", json={})
    assert response.status == 200
    return dict(await response.json())


async def test_renamed_unknown_tag_is_reported_then_moved_by_the_fix_flow(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    await _set_up_with_first_rules(hass, mock_config_entry)
    first = await call_run(hass)
    assert first is not None
    assert "renamed_outputs" not in first
    assert all(tags == {"unclassified/first"} for tags in _tags(sim_server).values())

    # The rules rename the unknown tag; a restart in between (the record is in storage).
    hass.config_entries.async_update_entry(mock_config_entry, options={CONF_RULES: RENAMED})
    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    second = await call_run(hass)
    assert second is not None
    renamed = second["renamed_outputs"]
    assert isinstance(renamed, list)
    (found,) = renamed
    assert (found["old"], found["new"], found["assets"], found["state"]) == (
        "unclassified/first",
        "unclassified/second",
        3,
        "pending",
    )
    both = {"unclassified/first", "unclassified/second"}
    assert all(tags == both for tags in _tags(sim_server).values())  # not moved unasked
    issue = issue_registry.async_get_issue(DOMAIN, ISSUE)
    assert issue is not None
    assert issue.is_fixable
    assert issue.severity is ir.IssueSeverity.WARNING

    writes = sim_server.sim.stats.writes
    dry = await call_run(hass, dry_run=True, migrate_outputs=True)
    assert dry is not None
    assert sim_server.sim.stats.writes == writes
    assert dry["changes"] == {"tag_migrate": 3, "tag_delete": 1}
    planned = dry["planned_changes"]
    assert isinstance(planned, list)
    assert (planned[0]["kind"], planned[0]["target"], planned[0]["new"]) == (
        "tag_migrate",
        "unclassified/first",
        "unclassified/second",
    )
    assert state_of(hass, RESULT) == "dry_run"
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None  # still to do

    result = await _fix(hass, hass_client)
    assert result["type"] == "create_entry"
    await wait_idle(hass, mock_config_entry)
    report = mock_config_entry.runtime_data.coordinator.last_report
    assert report is not None
    assert report.changes == dry["changes"]  # the dry run showed what the fix did
    assert not report.dry_run
    assert state_of(hass, RESULT) == "applied"
    attributes = hass.states.get(RESULT)
    assert attributes is not None
    assert attributes.attributes["tag_migrate"] == 3
    assert all(tags == {"unclassified/second"} for tags in _tags(sim_server).values())
    assert sim_server.lib.tag_by_value(sim_server.user, "unclassified/first") is None
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None

    writes = sim_server.sim.stats.writes
    again = await call_run(hass)
    assert again is not None
    assert again["changes"] == {}
    assert sim_server.sim.stats.writes == writes
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is None

    # Undoing the fix's run gives the old tag back (its untagging and deletion are journaled),
    # and the next run finds it again: the undo carries the names that run found.
    undone = await hass.services.async_call(
        DOMAIN,
        "undo",
        {"config_entry_id": ENTRY_ID, "run_id": report.id},
        blocking=True,
        return_response=True,
    )
    assert undone is not None
    assert (undone["status"], undone["skipped"]) == ("success", [])
    assert all(tags == both for tags in _tags(sim_server).values())
    found_again = await call_run(hass)
    assert found_again is not None
    renamed_again = found_again["renamed_outputs"]
    assert isinstance(renamed_again, list)
    assert [m["state"] for m in renamed_again] == ["pending"]
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None


async def test_fix_flow_aborts_while_a_run_is_in_progress(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    await _set_up_with_first_rules(hass, mock_config_entry)
    await call_run(hass)
    hass.config_entries.async_update_entry(mock_config_entry, options={CONF_RULES: RENAMED})
    await call_run(hass)
    assert issue_registry.async_get_issue(DOMAIN, ISSUE) is not None
    sim_server.sim.faults.latency_ms = 50
    mock_config_entry.runtime_data.coordinator.async_start_run(dry_run=True)
    result = await _fix(hass, hass_client)
    assert result["type"] == "abort"
    assert result["reason"] == "already_running"
    await wait_idle(hass, mock_config_entry)
    assert "unclassified/first" in next(iter(_tags(sim_server).values()))
