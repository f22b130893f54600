"""Binary sensor: is a run in progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import AutoTagData, ImmichAutoTagConfigEntry
from .entity import AutoTagEntity

PARALLEL_UPDATES = 0  # state is pushed by the run manager


@dataclass(frozen=True, kw_only=True)
class AutoTagBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A binary sensor reading the run state."""

    is_on_fn: Callable[[AutoTagData], bool]


BINARY_SENSORS: tuple[AutoTagBinarySensorEntityDescription, ...] = (
    AutoTagBinarySensorEntityDescription(
        key="running",
        translation_key="running",
        device_class=BinarySensorDeviceClass.RUNNING,
        is_on_fn=lambda data: data.running,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ImmichAutoTagConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of an entry."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(AutoTagBinarySensor(coordinator, d) for d in BINARY_SENSORS)


class AutoTagBinarySensor(AutoTagEntity, BinarySensorEntity):
    """A binary sensor of the run manager."""

    entity_description: AutoTagBinarySensorEntityDescription

    @property
    def is_on(self) -> bool:
        """State from the run manager."""
        return self.entity_description.is_on_fn(self.coordinator.data)
