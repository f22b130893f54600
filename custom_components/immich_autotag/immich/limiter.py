"""Request limiter: in-flight cap, optional requests per second, adaptive concurrency.

One limiter per server: in Home Assistant every entry on the same server shares it
(`connection.py`); the headless runner makes one per run. The transport takes a slot per
attempt (`async with limiter.slot():`) and reports the outcome (`on_success` /
`on_throttled`); it waits between attempts (`retry.py`) without holding a slot, so a
sleeping retry never blocks other requests.

The clock and sleep of the rate bucket are injectable so tests can drive it deterministically.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass


@dataclass
class LimiterStats:
    """Counters for reports and diagnostics."""

    max_in_flight_seen: int = 0
    concurrency: int = 0  # current adaptive cap


class Limiter:
    """Caps in-flight requests and request rate; adapts concurrency to throttling."""

    def __init__(
        self,
        max_concurrency: int = 4,
        max_rps: float | None = None,
        *,
        min_concurrency: int = 1,
        increase_after: int = 20,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        self.max_concurrency = max_concurrency
        self.min_concurrency = max(1, min(min_concurrency, max_concurrency))
        self.max_rps = max_rps if max_rps and max_rps > 0 else None
        self.increase_after = max(1, increase_after)
        self.clock = clock
        self._sleep = sleep
        self._cap = max_concurrency
        self._in_flight = 0
        self._streak = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._tokens = float(self._burst)
        self._last_refill: float | None = None
        self._stats = LimiterStats(concurrency=max_concurrency)

    @property
    def stats(self) -> LimiterStats:
        """Counters."""
        return self._stats

    @property
    def concurrency(self) -> int:
        """Current adaptive cap on in-flight requests."""
        return self._cap

    @property
    def in_flight(self) -> int:
        """Requests currently holding a slot."""
        return self._in_flight

    @property
    def _burst(self) -> float:
        return max(1.0, self.max_rps) if self.max_rps else 1.0

    # --- slots --------------------------------------------------------------------------
    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one in-flight slot (and one rate token) for the duration of a request."""
        await self._acquire()
        try:
            await self._take_token()
            yield
        finally:
            self._release()

    async def _acquire(self) -> None:
        if self._in_flight < self._cap and not self._waiters:
            self._grant()
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self._release()  # granted, then cancelled: hand the slot on
            else:
                with suppress(ValueError):
                    self._waiters.remove(fut)
            raise

    def _grant(self) -> None:
        self._in_flight += 1
        self._stats.max_in_flight_seen = max(self._stats.max_in_flight_seen, self._in_flight)

    def _release(self) -> None:
        self._in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self._in_flight < self._cap:
            fut = self._waiters.popleft()
            if fut.done():
                continue
            self._grant()
            fut.set_result(None)

    async def _take_token(self) -> None:
        if self.max_rps is None:
            return
        while True:
            now = self.clock()
            if self._last_refill is not None:
                elapsed = max(0.0, now - self._last_refill)
                self._tokens = min(self._burst, self._tokens + elapsed * self.max_rps)
            self._last_refill = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return
            await self._sleep((1.0 - self._tokens) / self.max_rps)

    # --- adaptation ---------------------------------------------------------------------
    def on_success(self) -> None:
        """A request succeeded: after `increase_after` in a row, raise the cap by one."""
        self._streak += 1
        if self._streak >= self.increase_after and self._cap < self.max_concurrency:
            self._cap += 1
            self._streak = 0
            self._stats.concurrency = self._cap
            self._wake()

    def on_throttled(self) -> None:
        """The server throttled (429/503): halve the cap (not below `min_concurrency`)."""
        self._streak = 0
        self._cap = max(self.min_concurrency, self._cap // 2)
        self._stats.concurrency = self._cap
