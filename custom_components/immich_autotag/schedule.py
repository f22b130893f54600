"""Automatic runs: one every `run_interval` minutes (an option; 0 = off).

Checked once a minute, the interval read from the options each time (changing it needs no
reload); the interval counts from the start of the entry's last run, whatever started it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from homeassistant.core import callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.event import async_track_time_interval

from .const import CONF_RUN_INTERVAL, DEFAULT_RUN_INTERVAL, DOMAIN
from .coordinator import AutoTagCoordinator

_LOGGER = logging.getLogger(__name__)
SCHEDULE_TICK = timedelta(minutes=1)


class RunSchedule:
    """The entry's automatic runs (see the module docstring)."""

    def __init__(self, coordinator: AutoTagCoordinator) -> None:
        self.coordinator = coordinator

    @callback
    def async_start(self) -> None:
        """Check every minute whether an automatic run is due (interval read each time)."""
        self.coordinator.config_entry.async_on_unload(
            async_track_time_interval(
                self.coordinator.hass,
                self._async_tick,
                SCHEDULE_TICK,
                name=f"{DOMAIN} schedule",
                cancel_on_shutdown=True,
            )
        )

    @callback
    def _async_tick(self, now: datetime) -> None:
        """Start an automatic run when the interval from the options has passed."""
        coordinator = self.coordinator
        entry = coordinator.config_entry
        interval = int(entry.options.get(CONF_RUN_INTERVAL, DEFAULT_RUN_INTERVAL))
        if interval <= 0 or coordinator.running:
            return
        if now - coordinator.last_run_started < timedelta(minutes=interval):
            return
        try:
            coordinator.async_start_run()
        except ServiceValidationError as err:
            coordinator.last_run_started = now  # do not retry every minute
            _LOGGER.warning("Automatic run of %s skipped: %s", entry.title, err)
