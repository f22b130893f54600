"""Options flow: the defaults, saving typed values, invalid rules refused with line and path."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.immich_autotag.const import (
    CONF_MAX_CONCURRENCY,
    CONF_MAX_RPS,
    CONF_NOTIFY,
    CONF_RULES,
    CONF_RUN_INTERVAL,
    CONF_WATCH_INTERVAL,
    CONF_WATCH_SETTLE,
)
from custom_components.immich_autotag.engine.default_rules import default_rules_yaml

from .flow_helpers import placeholders

pytestmark = pytest.mark.usefixtures("mock_setup_entry")


async def test_options_defaults_and_save(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """The form is pre-filled with the default rules; valid options are saved as typed."""
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    defaults = {
        str(key): key.default()
        for key in result["data_schema"].schema  # type: ignore[union-attr]
    }
    assert defaults == {
        CONF_RULES: default_rules_yaml(hass.config.time_zone),
        CONF_RUN_INTERVAL: 0,
        CONF_MAX_CONCURRENCY: 32,  # the ceiling of the adaptive limit
        CONF_MAX_RPS: 0.0,
        CONF_NOTIFY: False,
        CONF_WATCH_INTERVAL: 0,  # off
        CONF_WATCH_SETTLE: 10,
    }
    rules = "classification:\n  rules:\n    - {album_name_patterns: ['^\\d{4}']}\n"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_RULES: rules,
            CONF_RUN_INTERVAL: 60.0,
            CONF_MAX_CONCURRENCY: 8.0,
            CONF_MAX_RPS: 2.5,
            CONF_NOTIFY: True,
            CONF_WATCH_INTERVAL: 5.0,
            CONF_WATCH_SETTLE: 15.0,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options == {
        CONF_RULES: rules,
        CONF_RUN_INTERVAL: 60,
        CONF_MAX_CONCURRENCY: 8,
        CONF_MAX_RPS: 2.5,
        CONF_NOTIFY: True,
        CONF_WATCH_INTERVAL: 5,
        CONF_WATCH_SETTLE: 15,
    }


async def test_options_invalid_rules_then_fix(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """Invalid rules are refused with the line and key path; nothing is saved."""
    mock_config_entry.add_to_hass(hass)
    saved = "classification:\n  rules: []\n"
    hass.config_entries.async_update_entry(mock_config_entry, options={CONF_RULES: saved})
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    defaults = {str(k): k.default() for k in result["data_schema"].schema}  # type: ignore[union-attr]
    assert defaults[CONF_RULES] == saved
    bad = "classification:\n  rules:\n    - {album_name_patterns: ['(']}\n"
    user_input = {CONF_RULES: bad, CONF_RUN_INTERVAL: 0, CONF_MAX_CONCURRENCY: 4, CONF_MAX_RPS: 0}
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_RULES: "invalid_rules"}
    error = placeholders(result)["error"]
    assert "line 3" in error
    assert "classification.rules[0]" in error
    assert mock_config_entry.options == {CONF_RULES: saved}
    # The form keeps what the user typed.
    defaults = {str(k): k.default() for k in result["data_schema"].schema}  # type: ignore[union-attr]
    assert defaults[CONF_RULES] == bad
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**user_input, CONF_RULES: ""}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options[CONF_RULES] == ""
