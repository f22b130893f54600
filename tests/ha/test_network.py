"""Hostile networks through Home Assistant: redirects, hosts that drop packets, stalls, cancel.

The config flow and set-up fail fast (FAIL_FAST: about 10 s, 2 attempts) where a person or
Home Assistant's start-up is waiting; runs keep the patient policy, end a stall with an error
that names the endpoint, and a cancel ends a stalled run at once.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from unittest.mock import patch

import pytest
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry
from yarl import URL

from custom_components.immich_autotag.const import DOMAIN
from tests.reliability.common import fast_retry
from tests.reliability.origins import redirect_to, serve, version_answer

from .conftest import ENTRY_ID, SimServer, call_run, immich_entry, setup_integration

KEY = "the-secret-key-0123456789"
RUN_POLICY = "custom_components.immich_autotag.immich.transport.RUN_POLICY"


async def _flow(hass: HomeAssistant, url: str) -> dict[str, object]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: url, CONF_API_KEY: KEY, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.FORM
    return dict(result)


@pytest.mark.usefixtures("loopback", "mock_setup_entry")
async def test_flow_reports_a_redirect_and_never_sends_the_key_there(hass: HomeAssistant) -> None:
    async with (
        serve(version_answer, url_host="127.0.0.1") as other,
        serve(redirect_to(other.url + "{path}")) as server,
    ):
        result = await _flow(hass, server.url)
    assert result["errors"] == {"base": "redirected"}
    assert result["description_placeholders"] == {"target": other.url}
    assert other.seen == []


@pytest.mark.usefixtures("loopback", "mock_setup_entry")
async def test_flow_names_a_redirect_that_is_not_the_api(hass: HomeAssistant) -> None:
    async with (
        serve(version_answer, url_host="127.0.0.1") as portal,
        serve(redirect_to(portal.url + "/login")) as server,
    ):
        result = await _flow(hass, server.url)
    assert result["errors"] == {"base": "redirected_elsewhere"}
    assert result["description_placeholders"] == {"target": f"{portal.url}/login"}
    assert portal.seen == []


@contextmanager
def dropping_host() -> Iterator[str]:
    """A `localhost` URL whose connection attempts hang (the SYNs are dropped).

    A socket listening with a backlog of one and one connection waiting to be accepted:
    the kernel drops further SYNs, as a firewall or a host that went away does.
    """
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        filler.connect(listener.getsockname())
        yield f"http://localhost:{listener.getsockname()[1]}"


@pytest.mark.slow
@pytest.mark.usefixtures("loopback", "mock_setup_entry")
async def test_flow_fails_fast_on_a_host_that_drops_packets(hass: HomeAssistant) -> None:
    """FAIL_FAST: 2 connection attempts of 5 s, not 5 attempts of 60 s."""
    with dropping_host() as url:
        result = await _flow(hass, url)
    assert result["errors"] == {"base": "cannot_connect"}


@pytest.mark.slow
@pytest.mark.usefixtures("loopback")
async def test_setup_fails_fast_on_a_host_that_drops_packets(hass: HomeAssistant) -> None:
    with dropping_host() as url:
        entry = immich_entry(url, KEY, "alice")
        await setup_integration(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "could not connect to the server within" in str(entry.reason)
    assert "(2 attempts)" in str(entry.reason)


async def test_a_stalled_route_fails_the_run_naming_the_endpoint(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    """The run's patience (here 100x shorter: 0.3 s an attempt, 1.5 s in all) then an error."""
    with patch(RUN_POLICY, fast_retry(answer_timeout=0.3, max_stall=1.5)):
        await setup_integration(hass, mock_config_entry)
    sim_server.sim.faults.update({"stall_route": "GET /tags", "stall_s": 3600})
    with pytest.raises(
        HomeAssistantError, match=r"GET /tags did not answer within \d+ s \(5 attempts\)"
    ):
        await call_run(hass)
    report = mock_config_entry.runtime_data.coordinator.last_report
    assert report is not None
    assert report.error_kind == "connection"
    assert sim_server.sim.stats.faults_injected["stall"] >= 1


async def test_cancel_ends_a_stalled_run_at_once(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    """The stall would last an hour (and the client's patience minutes): cancel ends it now."""
    await setup_integration(hass, mock_config_entry)
    sim = sim_server.sim
    sim.faults.update({"stall_route": "GET /tags", "stall_s": 3600})
    run = hass.async_create_task(call_run(hass))
    while not sim.stats.faults_injected["stall"]:  # noqa: ASYNC110 - polling the simulator
        await asyncio.sleep(0.01)
    await hass.services.async_call(DOMAIN, "cancel", {"config_entry_id": ENTRY_ID}, blocking=True)
    async with asyncio.timeout(10):
        result = await run
    assert result is not None
    assert result["status"] == "cancelled"
    assert sim.stats.requests["GET /tags"] == 1  # not retried after the cancel
    assert URL(sim_server.url).host == "localhost"
