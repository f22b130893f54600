"""Logbook: each finished run in words ("applied 5,026 changes, 0 failed, 12 conflicts")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.const import Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from .const import DOMAIN, EVENT_RUN_FINISHED
from .engine.outcome import describe_summary
from .entity import device_name


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe `immich_autotag_run_finished`, linked to the entry's last-run-result sensor."""

    @callback
    def async_describe_run(event: Event) -> dict[str, str]:
        data: dict[str, Any] = dict(event.data)
        entry = hass.config_entries.async_get_entry(str(data.get("config_entry_id")))
        description = {
            LOGBOOK_ENTRY_NAME: device_name(entry.title) if entry else "Immich AutoTag",
            LOGBOOK_ENTRY_MESSAGE: describe_summary(data),
        }
        if entry is not None and entry.unique_id:
            entity_id = er.async_get(hass).async_get_entity_id(
                Platform.SENSOR, DOMAIN, f"{entry.unique_id}_last_run_result"
            )
            if entity_id:
                description[LOGBOOK_ENTRY_ENTITY_ID] = entity_id
        return description

    async_describe_event(DOMAIN, EVENT_RUN_FINISHED, async_describe_run)
