"""The simulator's capacity model: workers, a queue, a measured latency curve, and its meter.

A request's *work* is its solo latency (`Faults.latency_ms` plus jitter). The server serves it
in one of two ways, both sleep-based (virtual work, so CPU contention on the test machine does
not distort the model):

- **Workers** (`Faults.max_concurrency = N`): N requests are served at once, each for its
  work; the others wait in a FIFO queue.
- **Capacity curve** (`Faults.capacity_curve = [[n, latency_ms], ...]`): processor sharing.
  With n requests in service each one progresses at `L(1) / L(n)` of its solo speed, so at a
  steady n every request takes `L(n)`: latency rises with concurrency past the curve's knee
  while throughput `n / L(n)` flattens. `REAL_SERVER_CURVE` is a measured real server.

`LoadMeter` integrates what the server did over time: busy worker-seconds, queue seconds
(requests waiting), requests served. With a curve, the server's workers are its effective
parallelism `max(n * L(1) / L(n))` (2.1 for the real-server curve, a 2-core machine); requests
in service beyond that count as waiting (they share the cores, each slowed down).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Sequence
from typing import Any

# Measured on a real 2-core Immich v3.1 server: 250-asset `POST /search/metadata` pages,
# (requests in flight, latency in ms): 27 req/s at 1, 40 at 2, 43 at 4, 53 at 8, 62 at 16,
# 58 at 32.
REAL_SERVER_CURVE: tuple[tuple[int, float], ...] = (
    (1, 32.0),
    (2, 46.0),
    (4, 84.0),
    (8, 148.0),
    (16, 247.0),
    (32, 548.0),
)


class CapacityCurve:
    """Latency as a function of requests in service, linear between measured points."""

    def __init__(self, points: Sequence[Sequence[float]]) -> None:
        pairs = sorted((float(n), float(ms)) for n, ms in points)
        if not pairs or pairs[0][0] != 1.0 or any(ms <= 0 for _, ms in pairs):
            raise ValueError("a capacity curve needs positive latencies and a point at n=1")
        if len({n for n, _ in pairs}) != len(pairs):
            raise ValueError("a capacity curve has one latency per concurrency")
        self.points = pairs

    @property
    def solo_ms(self) -> float:
        """Latency of a request served alone."""
        return self.points[0][1]

    def latency_ms(self, n: float) -> float:
        """Latency of each request while `n` are in service (extrapolated past the last)."""
        pts = self.points
        if n <= pts[0][0] or len(pts) == 1:
            return pts[0][1]
        for (n0, l0), (n1, l1) in itertools.pairwise(pts):
            if n <= n1:
                return l0 + (l1 - l0) * (n - n0) / (n1 - n0)
        (n0, l0), (n1, l1) = pts[-2], pts[-1]
        return l1 + (l1 - l0) * (n - n1) / (n1 - n0)

    def slowdown(self, n: int) -> float:
        """How much slower each request progresses with `n` in service than alone."""
        return self.latency_ms(max(1, n)) / self.solo_ms

    def parallelism(self) -> float:
        """Effective workers: peak throughput x solo latency, `max(n * L(1) / L(n))`."""
        return max(n / self.slowdown(int(n)) for n, _ in self.points)


class SharedServer:
    """Processor sharing along a `CapacityCurve`, driven by event-loop timers (no busy CPU)."""

    def __init__(self, curve: CapacityCurve) -> None:
        self.curve = curve
        self._remaining: dict[asyncio.Future[None], float] = {}  # job -> solo work left, s
        self._stamp = 0.0
        self._timer: asyncio.TimerHandle | None = None

    @property
    def in_service(self) -> int:
        """Requests being served."""
        return len(self._remaining)

    async def serve(self, work_s: float) -> None:
        """Return once `work_s` seconds of solo work are done, sharing with the others."""
        loop = asyncio.get_running_loop()
        self._advance(loop.time())
        job: asyncio.Future[None] = loop.create_future()
        self._remaining[job] = max(0.0, work_s)
        self._schedule(loop)
        try:
            await job
        finally:
            if self._remaining.pop(job, None) is not None:  # cancelled in service
                self._advance(loop.time())
                self._schedule(loop)

    def _advance(self, now: float) -> None:
        if self._remaining:
            done = (now - self._stamp) / self.curve.slowdown(len(self._remaining))
            for job in self._remaining:
                self._remaining[job] -= done
        self._stamp = now

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._remaining:
            left = min(self._remaining.values())
            delay = max(0.0, left) * self.curve.slowdown(len(self._remaining))
            self._timer = loop.call_at(self._stamp + delay, self._tick, loop)

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        self._advance(loop.time())
        for job, left in list(self._remaining.items()):
            if left <= 1e-9:
                del self._remaining[job]
                if not job.done():
                    job.set_result(None)
        self._schedule(loop)


class LoadMeter:
    """Time integrals of the server's load since the last reset (see the module docstring)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.workers: float | None = None  # None: unbounded (every request served at once)
        self.waiting = 0  # admitted to the server, waiting for a worker
        self.serving = 0  # holding a worker (or sharing the curve's cores)
        self.reset()

    def reset(self) -> None:
        """Start a new measuring window (requests in progress stay counted)."""
        self._start = self._stamp = self._clock()
        self.busy_s = 0.0
        self.queue_s = 0.0
        self.in_flight_s = 0.0
        self.served = 0
        self.max_waiting = self._waiting_now()

    def _waiting_now(self) -> float:
        extra = 0.0 if self.workers is None else max(0.0, self.serving - self.workers)
        return self.waiting + extra

    def _integrate(self) -> None:
        now = self._clock()
        span = now - self._stamp
        self._stamp = now
        if span <= 0:
            return
        serving = self.serving if self.workers is None else min(self.serving, self.workers)
        self.busy_s += serving * span
        self.queue_s += self._waiting_now() * span
        self.in_flight_s += (self.waiting + self.serving) * span

    def set_workers(self, workers: float | None) -> None:
        """The server's capacity changed (a fault knob)."""
        self._integrate()
        self.workers = workers

    def arrive(self) -> None:
        """A request reached the server and waits for a worker."""
        self._integrate()
        self.waiting += 1
        self.max_waiting = max(self.max_waiting, self._waiting_now())

    def start(self) -> None:
        """A waiting request got a worker."""
        self._integrate()
        self.waiting -= 1
        self.serving += 1
        self.max_waiting = max(self.max_waiting, self._waiting_now())

    def finish(self) -> None:
        """A request in service left (answered, or its client went away)."""
        self._integrate()
        self.serving -= 1
        self.served += 1

    def drop(self) -> None:
        """A waiting request left before it got a worker (its client went away)."""
        self._integrate()
        self.waiting -= 1

    @property
    def started_at(self) -> float:
        """When the measuring window started (the clock's time)."""
        return self._start

    def elapsed_s(self) -> float:
        """Seconds since the last reset."""
        return self._clock() - self._start

    def as_dict(self) -> dict[str, Any]:
        """JSON for `/__sim/stats` (`load`)."""
        self._integrate()
        elapsed = self.elapsed_s()
        workers = self.workers
        return {
            "workers": workers,
            "elapsedSeconds": elapsed,
            "busySeconds": self.busy_s,
            "queueSeconds": self.queue_s,
            "served": self.served,
            "meanWaiting": self.queue_s / elapsed if elapsed > 0 else 0.0,
            "maxWaiting": self.max_waiting,
            "meanInFlight": self.in_flight_s / elapsed if elapsed > 0 else 0.0,
            "busyRatio": (
                self.busy_s / (workers * elapsed)
                if workers is not None and workers > 0 and elapsed > 0
                else None
            ),
        }


def server_workers(max_concurrency: int | None, curve: CapacityCurve | None) -> float | None:
    """The server's workers for the meter: the curve's parallelism, capped by the gate."""
    candidates: list[float] = []
    if max_concurrency:
        candidates.append(float(max_concurrency))
    if curve is not None:
        candidates.append(curve.parallelism())
    return min(candidates) if candidates else None
