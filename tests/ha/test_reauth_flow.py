"""Config flow: reauth with a new key of the same user, a read-only key, another user's key."""

from __future__ import annotations

import pytest
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import SimServer
from .flow_helpers import READ_ONLY, placeholders

pytestmark = pytest.mark.usefixtures("mock_setup_entry")


async def test_reauth(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    """A wrong key first, then a new key of the same user replaces the old one."""
    mock_config_entry.add_to_hass(hass)
    new_key = sim_server.lib.add_api_key(sim_server.user, permissions={"all"}, name="new")
    result = await mock_config_entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert placeholders(result)["title"] == "Alice"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "revoked"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: new_key}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert mock_config_entry.data[CONF_API_KEY] == new_key
    assert mock_config_entry.data[CONF_URL] == sim_server.url


async def test_reauth_with_a_read_only_key_says_what_is_off(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    key = sim_server.lib.add_api_key(sim_server.user, permissions=READ_ONLY)
    result = await mock_config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_KEY: key})
    assert result["step_id"] == "features_off"
    assert "every run is a dry run" in placeholders(result)["features"]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert mock_config_entry.data[CONF_API_KEY] == key


async def test_reauth_other_user(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    bob = sim_server.lib.add_user("bob@example.com", "Bob")
    bob_key = sim_server.lib.add_api_key(bob, permissions={"all"})
    result = await mock_config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: bob_key}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert mock_config_entry.data[CONF_API_KEY] == sim_server.key
