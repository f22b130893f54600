"""Snapshots of what the integration sets on its entities, valid on every Home Assistant release.

`snapshot_platform` of the HA test plugin snapshots whole registry entries and states, whose
shape changes between releases (new fields, `aliases` from a set to a list). This snapshots
only the integration's own choices: ids, names, classes, units, capabilities, state and
attributes, with enums as their values.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from syrupy.assertion import SnapshotAssertion


def plain(value: Any) -> Any:
    """Enums as their values, mappings and sequences as dicts and lists (recursively)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def entity_view(hass: HomeAssistant, entry: er.RegistryEntry) -> dict[str, Any]:
    """One entity: its registry entry's integration-set fields and its state."""
    state = hass.states.get(entry.entity_id)
    assert state is not None, f"no state for {entry.entity_id}"
    view: dict[str, Any] = plain(
        {
            "unique_id": entry.unique_id,
            "translation_key": entry.translation_key,
            "original_name": entry.original_name,
            "original_device_class": entry.original_device_class,
            "original_icon": entry.original_icon,
            "entity_category": entry.entity_category,
            "unit_of_measurement": entry.unit_of_measurement,
            "capabilities": entry.capabilities,
            "supported_features": entry.supported_features,
            "has_entity_name": entry.has_entity_name,
            "state": state.state,
            "attributes": dict(state.attributes),
        }
    )
    return view


def assert_entities_match_snapshot(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    config_entry_id: str,
) -> None:
    """Every entity of the entry (one platform loaded, all enabled) matches its snapshot."""
    entries = er.async_entries_for_config_entry(entity_registry, config_entry_id)
    assert entries
    assert len({e.domain for e in entries}) == 1, "load one platform at a time"
    for entry in sorted(entries, key=lambda e: e.entity_id):
        assert entry.disabled_by is None, f"{entry.entity_id} is disabled"
        assert entry.device_id is not None, f"{entry.entity_id} has no device"
        assert entity_view(hass, entry) == snapshot(name=entry.entity_id)
