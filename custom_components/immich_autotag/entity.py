"""Base entity: one service device per config entry, named after the integration and user.

Entity ids follow the device name (`sensor.immich_autotag_alice_status`), so they cannot
clash with another integration's `sensor.alice_*`. Home Assistant's entity registry keeps the
ids entities already have: entries set up before the rename keep `sensor.alice_*`.
"""

from __future__ import annotations

from homeassistant.const import CONF_URL
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import AutoTagCoordinator


def device_name(title: str) -> str:
    """The device of an entry: "Immich AutoTag (Alice)" (entity ids start with its slug)."""
    return f"Immich AutoTag ({title})"


class AutoTagEntity(CoordinatorEntity[AutoTagCoordinator]):
    """An entity of the Immich AutoTag device of one entry."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: AutoTagCoordinator, description: EntityDescription) -> None:
        super().__init__(coordinator)
        entry = coordinator.config_entry
        server = coordinator.connection.server
        self.entity_description = description
        self._attr_unique_id = f"{entry.unique_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            entry_type=DeviceEntryType.SERVICE,
            manufacturer="Immich",
            model="AutoTag",
            name=device_name(entry.title),
            sw_version=str(server.version) if server is not None else None,
            configuration_url=entry.data[CONF_URL],
        )
