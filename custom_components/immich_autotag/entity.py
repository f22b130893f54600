"""Base entity: one service device per config entry."""

from __future__ import annotations

from homeassistant.const import CONF_URL
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import AutoTagCoordinator


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
            name=entry.title,
            sw_version=str(server.version) if server is not None else None,
            configuration_url=entry.data[CONF_URL],
        )
