"""Adaptive concurrency: a Vegas-style limit that keeps the server's queue short.

Every answered request is a latency sample. Its *ratio* is its latency divided by the lowest
latency recently seen for requests of the same class (endpoint and size within a factor of
about 1.4), so a 250-asset page, a 1,000-asset page and a 3-id write are each compared with
their own kind (5 ms are added to both, so the
jitter of a server that answers in a millisecond or two is not mistaken for queueing).

An adjustment window holds the samples of requests granted a slot since the last change, as many
as the limit (at least 3: about one round trip's worth; a window whose requests were sent more
than 8 median latencies apart mixes two phases of work and starts again). Their mean ratio `r`
(each sample clipped at 3x the window's median, so one stall of the event loop does not
dominate) and mean in-flight count `n` estimate how many requests wait in the server's queue:
`queue = n * (1 - 1/r)`. With `n` in flight at `r` times the unloaded latency the server
completes `n / r` per unloaded latency, so `n / r` are being served and the rest wait; exact for
a server with fixed workers.

- queue below `alpha` and the limit held requests back: grow (doubling until the first sign of
  queueing, then by 10 % of the limit, at least 1, per window);
- queue between `alpha` and `beta`: hold;
- queue above `beta`: shrink by the excess over `alpha`, at most by half per window;
- a 429/503 answer: halve at once, once per round of requests (answers to requests sent before
  the last halving do not halve again).

`alpha` = max(1, 0.15 x limit) and `beta` = max(1.5, 0.3 x limit): a small server keeps about
one request waiting, a large one up to a third of the limit (latency noise grows with the
number in flight, and a few waiting requests cover the client's own time between requests).

The unloaded latency is only seen while few requests share the server. 2 s after slow start
ends on queueing (at once on a 429/503), and every 10 s after, one window runs at a quarter of
the limit (a *probe*) so the baselines are renewed (a burst of reads shorter than that is not
held back by one); baselines older than 30-60 s are forgotten. Another client loading the
server raises everyone's latency, so the limit falls, and it grows back when that load goes
away. Latency is counted to the answer's headers: reading a big body on a busy client is the
client's time, not the server's queue. Always between the minimum (1) and the configured maximum.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field

MIN_WINDOW = 3  # samples per adjustment window at least
ALPHA = 0.15  # grow while fewer than max(1, ALPHA x limit) requests wait at the server
BETA = 0.3  # shrink when more than max(1.5, BETA x limit) wait
STALE = 8.0  # requests sent this many median latencies apart are not one round of work
OUTLIER = 3.0  # a sample counts at most this many times the window's median ratio
MAX_DECREASE = 0.5  # queueing shrinks the limit by at most half per window
SLOW_START_FACTOR = 2.0
GROWTH = 0.1  # after slow start: grow by 10 % of the limit per window (at least 1)
NOISE = 0.005  # s added to both latencies of a ratio: a few ms of jitter is not queueing
BASELINE_PERIOD = 30.0  # seconds a class's lowest latency is remembered (two periods at most)
PROBE_INTERVAL = 10.0  # seconds between probes (re-measuring the unloaded latency)
FIRST_PROBE = 2.0  # seconds from the end of slow start to the first probe
PROBE_FROM = 2  # limits below this are low enough to see the unloaded latency anyway
HISTORY = 512  # limits at the most recent adjustment windows, for summaries


def queue_bounds(limit: float) -> tuple[float, float]:
    """(alpha, beta): estimated queue below which the limit grows, above which it shrinks."""
    return max(1.0, ALPHA * limit), max(1.5, BETA * limit)


def size_bucket(size: int) -> int:
    """Requests within a factor of about 1.4 in bytes share a bucket; up to 1 KiB all share one.

    A search page's latency grows with the items it holds (a server spends per item), so only
    pages of about the same size are compared: a 1,000-asset page next to a 300-asset one of
    the same search is no sign of queueing.
    """
    return 0 if size <= 1024 else 1 + int(2 * math.log2(size / 1024))  # noqa: PLR2004


class LatencyBaselines:
    """Per request class, the lowest latency of the last one to two `period`s."""

    def __init__(self, period: float = BASELINE_PERIOD) -> None:
        self.period = period
        self._classes: dict[str, list[float]] = {}  # key -> [bucket start, current, previous]

    def ratio(self, key: str, latency: float, now: float) -> float | None:
        """`latency` over the class's baseline (None for a new class); then remember it."""
        entry = self._classes.get(key)
        if entry is None:
            self._classes[key] = [now, latency, math.inf]
            return None
        start, current, previous = entry
        if now - start >= 2 * self.period:
            start, current, previous = now, math.inf, math.inf
        elif now - start >= self.period:
            start, current, previous = now, math.inf, current
        base = min(current, previous)
        self._classes[key] = [start, min(current, latency), previous]
        if not math.isfinite(base):
            return None
        return max(1.0, (latency + NOISE) / (max(0.0, base) + NOISE))


@dataclass
class LimitHistory:
    """What the limit did: counters and the limits of recent windows."""

    increases: int = 0
    decreases: int = 0  # on queueing (latency)
    halvings: int = 0  # on 429/503
    probes: int = 0  # windows at a quarter of the limit, to re-measure unloaded latency
    windows: int = 0
    last_ratio: float = 1.0
    last_queue: float = 0.0
    recent: deque[int] = field(default_factory=lambda: deque(maxlen=HISTORY))
    lowest: int | None = None
    highest: int | None = None

    def record(self, limit: int) -> None:
        """The limit at the end of an adjustment window (or after a halving)."""
        self.windows += 1
        self.recent.append(limit)
        self.lowest = limit if self.lowest is None else min(self.lowest, limit)
        self.highest = limit if self.highest is None else max(self.highest, limit)

    def since(self, windows: int) -> list[int]:
        """Limits recorded after the first `windows` windows (as far as remembered)."""
        count = min(self.windows - windows, len(self.recent))
        return list(self.recent)[len(self.recent) - count :] if count > 0 else []


class AdaptiveLimit:
    """The concurrency limit and its control law (see the module docstring); no I/O, no clock.

    Times are passed in by the caller, so tests drive it deterministically.
    """

    def __init__(self, maximum: int, *, initial: int = 8, start: float = 0.0) -> None:
        self.maximum = max(1, maximum)
        self.minimum = 1  # never below one request in flight
        self._limit = float(max(self.minimum, min(initial, self.maximum)))
        self.slow_start = True
        self.baselines = LatencyBaselines()
        self.history = LimitHistory(lowest=self.limit, highest=self.limit)
        self._window_start = start
        self._last_halving = -math.inf
        self._probe_due: float | None = None  # set when slow start ends
        self._probe_return: float | None = None  # the limit to go back to after a probe
        self._reset_window()

    @property
    def limit(self) -> int:
        """Requests allowed in flight now."""
        return int(self._limit)

    def _reset_window(self) -> None:
        self._samples = 0
        self._ratios: list[float] = []
        self._latencies: list[float] = []
        self._opened = 0.0  # when the window's first sample was sent
        self._in_flight_sum = 0.0
        self._limited = False

    def sample(
        self,
        key: str,
        latency: float,
        *,
        in_flight: int,
        started: float,
        now: float,
        limited: bool,
    ) -> None:
        """An answer (not throttled) to a request of class `key`, sent at `started`.

        `in_flight`: requests in flight with it (itself included), the most of when it was
        sent and when it was answered; `limited`: whether the limit held requests back when
        it was sent (only then does growing help).
        """
        ratio = self.baselines.ratio(key, latency, now)
        if self._latencies and started - self._opened > STALE * statistics.median(
            self._latencies
        ):  # the window's first requests were sent long before: another phase's, start again
            self._window_start = now
            self._reset_window()
        if ratio is None or started < self._window_start:
            return  # a new class, or sent under an older limit
        if not self._samples:
            self._opened = started
        self._samples += 1
        self._ratios.append(ratio)
        self._latencies.append(latency)
        self._in_flight_sum += in_flight
        self._limited = self._limited or limited
        if self._samples >= max(MIN_WINDOW, math.ceil(self._limit)):
            self._adjust(now)

    def _adjust(self, now: float) -> None:
        if self._probe_return is not None:  # the probe's samples renewed the baselines
            self._limit, self._probe_return = self._probe_return, None
            self._end_window(now)
            return
        clip = OUTLIER * statistics.median(self._ratios)
        ratio = statistics.fmean(min(r, clip) for r in self._ratios)
        in_flight = self._in_flight_sum / self._samples
        queue = in_flight * (1.0 - 1.0 / ratio)
        alpha, beta = queue_bounds(self._limit)
        limit = self._limit
        if queue > beta:
            self._end_slow_start(now)
            limit = max(limit * (1 - MAX_DECREASE), limit - (queue - alpha))
        elif queue >= alpha:
            self._end_slow_start(now)  # some queueing: enough, hold
        elif self._limited:
            limit = limit * SLOW_START_FACTOR if self.slow_start else limit + max(1, limit * GROWTH)
        before, self._limit = self.limit, max(float(self.minimum), min(float(self.maximum), limit))
        if self.limit > before:
            self.history.increases += 1
        elif self.limit < before:
            self.history.decreases += 1
        self.history.last_ratio, self.history.last_queue = ratio, queue
        if self._probe_due is not None and now >= self._probe_due and self._limit >= PROBE_FROM:
            self._probe_return = self._limit  # next window at a quarter of the limit
            self._limit = max(float(self.minimum), math.floor(self._limit / 4))
            self._probe_due = now + PROBE_INTERVAL
            self.history.probes += 1
        self._end_window(now)

    def _end_slow_start(self, now: float, *, probe_in: float = FIRST_PROBE) -> None:
        if self.slow_start:
            self.slow_start = False
            # The start may have inflated the baselines: probe soon. After queueing, not at
            # once, so a short burst of reads (a steady re-run's pages) is not held back for a
            # window; after a 429/503 at once (the server said it was overloaded).
            self._probe_due = now + probe_in

    def _end_window(self, now: float) -> None:
        self.history.record(self.limit)
        self._window_start = now
        self._reset_window()

    def throttled(self, *, started: float, now: float) -> bool:
        """The server refused a request sent at `started` (429/503): halve; True if it did."""
        if started < self._last_halving or self._limit <= self.minimum:
            return False  # sent before the last halving (already answered), or at the floor
        self._end_slow_start(now, probe_in=0.0)
        if self._probe_return is not None:
            self._limit, self._probe_return = self._probe_return, None
        self._limit = max(float(self.minimum), math.floor(self._limit / 2))
        self._last_halving = now
        self.history.halvings += 1
        self._end_window(now)
        return True
