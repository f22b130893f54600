"""Run when new photos arrive: a cheap check every few minutes, a run once uploads settle.

Every `watch_interval` minutes (an option; 0 = off) one small request counts the photos
uploaded since the last applied run's snapshot (`engine/new_assets.py`, on Immich's clock);
the count is the *New photos* sensor. Once it is above zero and has not changed for
`watch_settle` minutes, a run starts — never while one is in progress, and through the same
limiter as every request of the server.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from homeassistant.core import callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.event import async_track_time_interval

from .const import (
    CONF_WATCH_INTERVAL,
    CONF_WATCH_SETTLE,
    DEFAULT_WATCH_INTERVAL,
    DEFAULT_WATCH_SETTLE,
    DOMAIN,
)
from .coordinator import AutoTagCoordinator
from .engine.new_assets import Settle, count_new_assets
from .engine.report import RunReport
from .immich.errors import ImmichAuthError, ImmichError

_LOGGER = logging.getLogger(__name__)
TICK = timedelta(minutes=1)


def _watermark_of(reports: list[RunReport]) -> str:
    """The newest `updatedAt` the last applied run (or undo) that read the library read.

    Empty before any. A run that failed before reading (the server away or answering
    garbage), and a skipped, failed or cancelled run (`engine/runner.py`), has none: the one
    before it counts, so the photos stay new and the run is tried again once they settle
    (every check interval plus the settle time at most: never a tight loop).
    """
    return next(
        (r.newest_update for r in reversed(reports) if not r.dry_run and r.newest_update), ""
    )


class NewAssetWatcher:
    """The entry's check for new photos (see the module docstring)."""

    def __init__(self, coordinator: AutoTagCoordinator) -> None:
        self.coordinator = coordinator
        self.settle = Settle(0)
        self._watermark = ""
        self._last_check: datetime | None = None
        self._checking = False

    @callback
    def async_start(self) -> None:
        """Check every minute whether a check is due (the options are read each time)."""
        entry = self.coordinator.config_entry
        entry.async_on_unload(
            async_track_time_interval(
                self.coordinator.hass,
                self._async_tick,
                TICK,
                name=f"{DOMAIN} new photos",
                cancel_on_shutdown=True,
            )
        )

    async def _async_tick(self, now: datetime) -> None:
        coordinator = self.coordinator
        options = coordinator.config_entry.options
        interval = float(options.get(CONF_WATCH_INTERVAL, DEFAULT_WATCH_INTERVAL))
        if interval <= 0 or coordinator.running or self._checking:
            return
        if self._last_check is not None and now - self._last_check < timedelta(minutes=interval):
            return
        watermark = _watermark_of(coordinator.reports)
        if not watermark:  # no applied run yet: nothing to count from
            return
        if watermark != self._watermark:  # a run since the last check
            self._watermark = watermark
            self.settle.reset()
        self._last_check = now
        self._checking = True
        try:
            count = await count_new_assets(coordinator.connection.async_client(), watermark)
        except ImmichAuthError:  # the key was revoked: ask for a new one (once, HA dedups)
            coordinator.config_entry.async_start_reauth(coordinator.hass)
            return
        except ImmichError as err:
            _LOGGER.debug(
                "Checking %s for new photos failed: %s", coordinator.config_entry.title, err
            )
            return
        finally:
            self._checking = False
        if count is None or coordinator.running:
            return
        coordinator.async_set_new_assets(count)
        self.settle.settle = 60 * float(options.get(CONF_WATCH_SETTLE, DEFAULT_WATCH_SETTLE))
        if self.settle.observe(count, now.timestamp()):
            try:
                coordinator.async_start_run()
            except ServiceValidationError as err:
                _LOGGER.warning(
                    "Run for new photos of %s skipped: %s", coordinator.config_entry.title, err
                )
            self.settle.reset()
