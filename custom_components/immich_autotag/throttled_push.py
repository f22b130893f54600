"""The coordinator's pushes to entities, progress at most once a second (README.md).

A progress tick inside the window is not lost: the push waits for the window to end. Any other
change (a run starts, is cancelled or finishes, the new-photos count) is pushed at once and
takes the place of a waiting push.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

PROGRESS_INTERVAL = 1.0  # seconds between progress pushes (at most one a second: README.md)


class ThrottledPush:
    """Calls `push` now, or for progress at most once every `PROGRESS_INTERVAL` seconds."""

    def __init__(self, hass: HomeAssistant, push: Callable[[], None]) -> None:
        self._hass = hass
        self._push = push
        self._last_push = -math.inf
        self._pending_push: CALLBACK_TYPE | None = None

    @callback
    def async_push(self) -> None:
        """Push now; a waiting progress push is no longer needed."""
        self.async_cancel()
        self._last_push = self._hass.loop.time()
        self._push()

    @callback
    def async_push_progress(self) -> None:
        """Push now if the last push is old enough; else once the window ends."""
        wait = self._last_push + PROGRESS_INTERVAL - self._hass.loop.time()
        if wait <= 0:
            self.async_push()
        elif self._pending_push is None:
            self._pending_push = async_call_later(
                self._hass, wait, HassJob(self._async_flush, cancel_on_shutdown=True)
            )

    @callback
    def async_cancel(self) -> None:
        """Drop a waiting progress push (unload, a run's task cancelled)."""
        if self._pending_push is not None:
            self._pending_push()
            self._pending_push = None

    @callback
    def _async_flush(self, _now: datetime) -> None:
        self._pending_push = None
        self.async_push()
