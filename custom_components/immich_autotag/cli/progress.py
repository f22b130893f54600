"""Progress on stderr: a live bar on a terminal, readable lines in logs."""

from __future__ import annotations

from typing import TextIO

from ..engine.progress import Progress


class ProgressBar:
    """A one-line progress bar on a terminal; one line per phase otherwise."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._tty = out.isatty()
        self._last = ""

    def __call__(self, tick: Progress) -> None:
        """Draw a tick."""
        pct = tick.percent
        if self._tty:
            filled = int(pct / 100 * 30)
            line = f"\r[{'#' * filled}{'.' * (30 - filled)}] {pct:5.1f}% {tick.phase:<9}"
            if line != self._last:
                self._out.write(line)
                self._out.flush()
                self._last = line
        elif tick.phase != self._last:
            self._last = str(tick.phase)
            self._out.write(f"{tick.phase}...\n")

    def close(self) -> None:
        """End the bar's line."""
        if self._tty and self._last:
            self._out.write("\n")
