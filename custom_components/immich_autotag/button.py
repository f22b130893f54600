"""Buttons: start a run or a dry run, cancel the run in progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import AutoTagCoordinator
from .data import ImmichAutoTagConfigEntry
from .entity import AutoTagEntity

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class AutoTagButtonEntityDescription(ButtonEntityDescription):
    """A button that acts on the run manager."""

    press_fn: Callable[[AutoTagCoordinator], Any]
    available_fn: Callable[[AutoTagCoordinator], bool] = lambda _: True


BUTTONS: tuple[AutoTagButtonEntityDescription, ...] = (
    AutoTagButtonEntityDescription(
        key="run",
        translation_key="run",
        press_fn=lambda coordinator: coordinator.async_start_run(dry_run=False),
    ),
    AutoTagButtonEntityDescription(
        key="dry_run",
        translation_key="dry_run",
        press_fn=lambda coordinator: coordinator.async_start_run(dry_run=True),
    ),
    AutoTagButtonEntityDescription(
        key="cancel",
        translation_key="cancel",
        press_fn=lambda coordinator: coordinator.async_cancel_run(),
        available_fn=lambda coordinator: coordinator.running,  # only while a run is in progress
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ImmichAutoTagConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the buttons of an entry."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(AutoTagButton(coordinator, d) for d in BUTTONS)


class AutoTagButton(AutoTagEntity, ButtonEntity):
    """Starts a run in the background (a second run is refused) or cancels it."""

    entity_description: AutoTagButtonEntityDescription

    @property
    def available(self) -> bool:
        """Run buttons always; Cancel only while a run is in progress."""
        return super().available and self.entity_description.available_fn(self.coordinator)

    async def async_press(self) -> None:
        """Start (or cancel) the run; a run continues in the background."""
        self.entity_description.press_fn(self.coordinator)
