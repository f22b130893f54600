"""Progress on stderr: a live bar on a terminal, plain periodic lines in logs.

Outside a terminal (cron, systemd, docker logs) each phase prints a line when it starts, one
every `interval` seconds with done/total, rate and ETA, and one when it ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from ..engine.progress import Progress, RunPhase

BAR_WIDTH = 30
TTY_REDRAW = 0.1  # seconds between redraws of the live bar
UNITS = {RunPhase.LOADING: "requests", RunPhase.PLANNING: "steps", RunPhase.APPLYING: "requests"}


def format_seconds(seconds: float) -> str:
    """`45 s`, `12 min 5 s`, `2 h 3 min`."""
    whole = round(seconds)
    if whole < 60:  # noqa: PLR2004
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:  # noqa: PLR2004
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


class _Phase:
    """Done/total, rate and ETA of one phase."""

    def __init__(self, phase: RunPhase, now: float) -> None:
        self.phase = phase
        self.started = now
        self.done = 0
        self.total = 0

    def rate(self, now: float) -> float:
        elapsed = now - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def describe(self, now: float) -> str:
        unit = UNITS[self.phase]
        if self.phase is RunPhase.PLANNING:  # one step: nothing to count
            return str(self.phase)
        if not self.total:
            return f"{self.phase}: {self.done:,} {unit}"
        pct = min(100.0, 100.0 * self.done / self.total)
        text = f"{self.phase}: {self.done:,}/{self.total:,} {unit} ({pct:.0f}%)"
        rate = self.rate(now)
        if rate > 0:
            text += f", {rate:,.1f}/s"
            if self.done < self.total:
                text += f", ETA {format_seconds((self.total - self.done) / rate)}"
        return text


class ProgressPrinter:
    """Receives the engine's progress ticks and writes them to `out`."""

    def __init__(
        self,
        out: TextIO,
        *,
        tty: bool | None = None,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._out = out
        self._tty = out.isatty() if tty is None else tty
        self._interval = interval
        self._clock = clock
        self._phase: _Phase | None = None
        self._last_tick: Progress | None = None
        self._last_print = 0.0
        self._bar = ""
        self._silenced = False

    def __call__(self, tick: Progress) -> None:
        """Take one tick."""
        now = self._clock()
        if self._phase is None or tick.phase != self._phase.phase:
            self._end_phase(now)
            self._phase = _Phase(tick.phase, now)
            if not self._tty:
                self._line(f"{tick.phase}: started")
            self._last_print = now
        phase = self._phase
        phase.done, phase.total = tick.done, tick.total
        self._last_tick = tick
        if self._tty:
            if now - self._last_print >= TTY_REDRAW or (tick.total and tick.done >= tick.total):
                self._draw(tick, now)
                self._last_print = now
        elif now - self._last_print >= self._interval:
            self._line(phase.describe(now))
            self._last_print = now

    def close(self) -> None:
        """End the current phase (and the bar's line)."""
        self._end_phase(self._clock())
        self._phase = None

    def _end_phase(self, now: float) -> None:
        phase = self._phase
        if phase is None:
            return
        if self._tty:
            if self._last_tick is not None:  # the phase's final numbers, then a new line
                self._draw(self._last_tick, now)
            if self._bar:
                self._write("\n")
                self._bar = ""
            return
        took = format_seconds(now - phase.started)
        counted = phase.total and phase.phase is not RunPhase.PLANNING
        done = f"{phase.done:,} {UNITS[phase.phase]}" if counted else ""
        self._line(f"{phase.phase}: done{', ' + done if done else ''} in {took}")

    def _draw(self, tick: Progress, now: float) -> None:
        assert self._phase is not None  # noqa: S101
        filled = int(tick.percent / 100 * BAR_WIDTH)
        bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {tick.percent:5.1f}% "
        text = "\r" + bar + self._phase.describe(now)
        if text != self._bar:
            # pad over a longer previous line
            self._write(text.ljust(len(self._bar)))
            self._bar = text

    def _line(self, text: str) -> None:
        self._write(text + "\n")

    def _write(self, text: str) -> None:
        """Write; a closed or failing stderr (`2>&1 | head`) ends the progress, never the run."""
        if self._silenced:
            return
        try:
            self._out.write(text)
            self._out.flush()
        except (OSError, ValueError):  # ValueError: the stream was closed
            self._silenced = True
