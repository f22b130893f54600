"""The server version is read at every run: upgrades, newer minors and unknown majors."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.immich_autotag.const import DOMAIN
from tests.sim.server import assert_no_violations

from .conftest import ENTRY_ID, SimServer, call_run, setup_integration

NEWER = f"newer_version_{ENTRY_ID}"
UNSUPPORTED = f"unsupported_version_{ENTRY_ID}"


def _search_styles(server: SimServer) -> dict[str, int]:
    """How the searches since the last look were asked ("filter" = v3.2, "flat" = older)."""
    styles = dict(server.sim.stats.search_styles)
    server.sim.stats.search_styles.clear()
    return styles


async def _add_alice_through_the_flow(hass: HomeAssistant, sim_server: SimServer) -> Any:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    return await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_URL: sim_server.url, CONF_API_KEY: sim_server.key, CONF_VERIFY_SSL: True},
    )


def _issue(issue_registry: ir.IssueRegistry, issue_id: str) -> ir.IssueEntry:
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    return issue


def _sw_version(device_registry: dr.DeviceRegistry) -> str | None:
    (device,) = dr.async_entries_for_config_entry(device_registry, ENTRY_ID)
    assert device.identifiers == {(DOMAIN, ENTRY_ID)}
    return device.sw_version


async def test_upgrade_between_two_runs_needs_no_reload(
    hass: HomeAssistant,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """v3.0 → v3.2 while loaded: the next run reads the version and uses the v3.2 calls."""
    await setup_integration(hass, mock_config_entry)
    requests = sim_server.sim.stats.requests
    first = await call_run(hass)
    assert first["status"] == "success"
    assert set(_search_styles(sim_server)) == {"flat"}
    versions_read = requests["GET /server/version"]

    sim_server.sim.set_version("3.2.2")
    second = await call_run(hass)
    assert second["status"] == "success"
    assert requests["GET /server/version"] == versions_read + 1  # one request per run
    assert set(_search_styles(sim_server)) == {"filter"}
    assert mock_config_entry.runtime_data.coordinator.last_report.server_version == "v3.2.2"
    assert _sw_version(device_registry) == "v3.2.2"
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert_no_violations(sim_server.sim)


@pytest.mark.parametrize("sim_version", ["3.9.0"])
async def test_newer_minor_runs_with_the_newest_calls_and_a_warning(
    hass: HomeAssistant,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    await setup_integration(hass, mock_config_entry)
    assert mock_config_entry.state is ConfigEntryState.LOADED
    issue = _issue(issue_registry, NEWER)
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {
        "title": "Alice",
        "version": "v3.9",
        "tested": "v3.2",
    }
    response = await call_run(hass)
    assert response["status"] == "success"
    assert set(_search_styles(sim_server)) == {"filter"}
    report = mock_config_entry.runtime_data.coordinator.last_report
    assert report is not None
    assert any(w["kind"] == "untested_version" for w in report.warnings)
    assert_no_violations(sim_server.sim)

    sim_server.sim.set_version("3.2.2")  # a tested version again: the warning goes
    await call_run(hass)
    assert issue_registry.async_get_issue(DOMAIN, NEWER) is None


@pytest.mark.parametrize("sim_version", ["3.9.0"])
@pytest.mark.usefixtures("mock_setup_entry")
async def test_the_flow_accepts_a_newer_minor(hass: HomeAssistant, sim_server: SimServer) -> None:
    result = await _add_alice_through_the_flow(hass, sim_server)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize("sim_version", ["1.132.3", "4.0.0"])
async def test_unsupported_versions_are_refused_at_setup_and_in_the_flow(
    hass: HomeAssistant,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    sim_version: str,
) -> None:
    """Older than v2, or an unknown major: a setup error and a repair issue naming it."""
    await setup_integration(hass, mock_config_entry)
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    issue = _issue(issue_registry, UNSUPPORTED)
    assert issue.translation_placeholders == {"title": "Alice", "version": f"v{sim_version}"}
    assert sim_server.sim.stats.writes == 0

    result = await _add_alice_through_the_flow(hass, sim_server)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unsupported_version"}
    assert result["description_placeholders"] == {"version": f"v{sim_version}"}


async def test_upgrade_to_an_unknown_major_stops_runs_until_it_is_gone(
    hass: HomeAssistant,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    await setup_integration(hass, mock_config_entry)
    writes = sim_server.sim.stats.writes
    sim_server.sim.set_version("4.0.0")
    with pytest.raises(HomeAssistantError, match=r"v4\.0\.0 is not supported"):
        await call_run(hass)
    assert sim_server.sim.stats.writes == writes
    issue = _issue(issue_registry, UNSUPPORTED)
    assert issue.translation_placeholders == {"title": "Alice", "version": "v4.0.0"}

    sim_server.sim.set_version("3.0.3")
    response = await call_run(hass)
    assert response["status"] == "success"
    assert issue_registry.async_get_issue(DOMAIN, UNSUPPORTED) is None
