"""Progress reporting and cooperative cancellation shared by the runner and its callers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class RunPhase(StrEnum):
    """Where a run is."""

    LOADING = "loading"
    PLANNING = "planning"
    APPLYING = "applying"


@dataclass(frozen=True, slots=True)
class Progress:
    """A progress tick: `done` of `total` units in `phase` (total 0 = unknown)."""

    phase: RunPhase
    done: int = 0
    total: int = 0

    @property
    def percent(self) -> float:
        """Overall progress 0-100: loading 0-45 %, planning 45-50 %, applying 50-100 %."""
        start, width = {
            RunPhase.LOADING: (0.0, 45.0),
            RunPhase.PLANNING: (45.0, 5.0),
            RunPhase.APPLYING: (50.0, 50.0),
        }[self.phase]
        fraction = min(1.0, self.done / self.total) if self.total else 0.0
        return round(start + width * fraction, 1)


ProgressCallback = Callable[[Progress], None]


class RunCancelledError(Exception):
    """Raised at a safe point after `CancelToken.cancel()`."""


class CancelToken:
    """Asks a run to stop at the next request boundary (and its waits to end at once)."""

    def __init__(self) -> None:
        self._cancelled = False
        self._listeners: list[Callable[[], None]] = []

    def cancel(self) -> None:
        """Request cancellation; tells the listeners (the client stops waiting)."""
        self._cancelled = True
        for listener in list(self._listeners):
            listener()

    def on_cancel(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` on cancellation; returns a function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @property
    def cancelled(self) -> bool:
        """True once cancellation was requested."""
        return self._cancelled

    def check(self) -> None:
        """Raise RunCancelledError if cancellation was requested."""
        if self._cancelled:
            raise RunCancelledError
