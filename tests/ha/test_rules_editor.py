"""The rules field of the options form, as the frontend receives and sends it (over HTTP).

The field must reach the browser as the code-editor selector (monospace, line numbers) and its
text must come back exactly as typed, so the line numbers in rule errors match the editor's.
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.immich_autotag.const import (
    CONF_MAX_CONCURRENCY,
    CONF_MAX_RPS,
    CONF_NOTIFY,
    CONF_RULES,
    CONF_RUN_INTERVAL,
)
from custom_components.immich_autotag.engine.default_rules import default_rules_yaml
from custom_components.immich_autotag.options_flow import RulesEditorSelector

pytestmark = pytest.mark.usefixtures("mock_setup_entry")

FLOW_URL = "/api/config/config_entries/options/flow"

# Leading blank lines, a comment Jinja would refuse, indentation and trailing newlines: any
# stripping or template check on the way would change the text or refuse it.
AS_TYPED = (
    "\n\n# {% not a template %} {{ nor this }\n"
    "classification:\n"
    "  rules:\n"
    "    - tag_names: [people/alice]   # trailing spaces after this line   \n"
    "      album_name_patterns: ['^\\d{4}-\\d{2}']\n"
    "\n\n"
)


def _fields(form: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {field["name"]: field for field in form["data_schema"]}


async def _open_form(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, entry: MockConfigEntry
) -> tuple[Any, dict[str, Any]]:
    entry.add_to_hass(hass)
    assert await async_setup_component(hass, "config", {})
    client = await hass_client()
    response = await client.post(FLOW_URL, json={"handler": entry.entry_id})
    assert response.status == 200
    return client, await response.json()


def _submission(rules: str) -> dict[str, Any]:
    return {
        CONF_RULES: rules,
        CONF_RUN_INTERVAL: 0,
        CONF_MAX_CONCURRENCY: 32,
        CONF_MAX_RPS: 0,
        CONF_NOTIFY: False,
    }


async def test_rules_field_reaches_the_browser_as_the_code_editor(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, mock_config_entry: MockConfigEntry
) -> None:
    _client, form = await _open_form(hass, hass_client, mock_config_entry)
    assert form["type"] == "form"
    rules = _fields(form)[CONF_RULES]
    # The template selector is the one the frontend renders with ha-code-editor (line
    # numbers, monospace); `text` would be a proportional textarea.
    assert rules["selector"] == {"template": {}}
    assert rules["required"] is True
    assert rules["default"] == default_rules_yaml(hass.config.time_zone)
    # The other fields keep their own selectors.
    assert set(_fields(form)[CONF_RUN_INTERVAL]["selector"]) == {"number"}


async def test_rules_text_round_trips_unchanged(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, mock_config_entry: MockConfigEntry
) -> None:
    client, form = await _open_form(hass, hass_client, mock_config_entry)
    response = await client.post(f"{FLOW_URL}/{form['flow_id']}", json=_submission(AS_TYPED))
    assert response.status == 200
    result = await response.json()
    assert result["type"] == "create_entry", result
    assert mock_config_entry.options[CONF_RULES] == AS_TYPED  # byte for byte
    # Opened again, the editor shows the saved text as it was typed.
    _client, form = await _open_form(hass, hass_client, mock_config_entry)
    assert _fields(form)[CONF_RULES]["default"] == AS_TYPED


async def test_error_line_numbers_match_the_editor(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, mock_config_entry: MockConfigEntry
) -> None:
    """An error in line 8 of the text (after blank lines and a comment) says line 8."""
    bad = AS_TYPED.rstrip("\n") + "\n    - album_name_patterns: ['(']\n\n"
    line = bad.splitlines().index("    - album_name_patterns: ['(']") + 1
    assert line == 8
    client, form = await _open_form(hass, hass_client, mock_config_entry)
    response = await client.post(f"{FLOW_URL}/{form['flow_id']}", json=_submission(bad))
    result = await response.json()
    assert result["type"] == "form"
    assert result["errors"] == {CONF_RULES: "invalid_rules"}
    assert result["description_placeholders"]["error"].startswith(f"line {line}, ")
    assert _fields(result)[CONF_RULES]["default"] == bad  # the form keeps the text as typed
    assert mock_config_entry.options == {}


def test_selector_takes_text_only() -> None:
    selector = RulesEditorSelector()
    assert selector(AS_TYPED) is AS_TYPED
    with pytest.raises(Exception, match="rules must be text"):
        selector({"classification": {}})
