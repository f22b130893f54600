"""Config flow: reconfigure the URL (invalid, unreachable, then the server's); another user."""

from __future__ import annotations

from unittest.mock import AsyncMock

import pytest
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import SimServer, immich_entry
from .flow_helpers import CLOSED_URL, server_info

pytestmark = pytest.mark.usefixtures("mock_setup_entry")


async def test_reconfigure(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    """Invalid URL, unreachable URL, then the server's URL with `/api` and no SSL check."""
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    flow_id = result["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: "not a url", CONF_VERIFY_SSL: True}
    )
    assert result["errors"] == {CONF_URL: "invalid_url"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: CLOSED_URL, CONF_VERIFY_SSL: True}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: f"{sim_server.url}/api", CONF_VERIFY_SSL: False}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert mock_config_entry.data == {
        CONF_URL: sim_server.url,
        CONF_API_KEY: sim_server.key,
        CONF_VERIFY_SSL: False,
    }


async def test_reconfigure_other_user(
    hass: HomeAssistant, sim_server: SimServer, patch_connect: AsyncMock
) -> None:
    """The stored key now answers as another user (e.g. a different server): refused."""
    entry = immich_entry("http://old:2283", "k", "another-user-id", title="Someone")
    entry.add_to_hass(hass)
    patch_connect.return_value = server_info(sim_server)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: sim_server.url, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert entry.data[CONF_URL] == "http://old:2283"
