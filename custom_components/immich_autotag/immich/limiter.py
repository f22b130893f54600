"""Request limiter: in-flight cap, optional requests per second, adaptive concurrency.

One limiter per config entry; it may be shared by several clients that talk to the same
server. The transport takes a slot per attempt (`async with limiter.slot():`), reports the
outcome (`on_success` / `on_throttled`) and, between attempts, calls `backoff()` *after*
releasing the slot, so a sleeping retry never blocks other requests.

Everything time-related is injectable (`clock`, `wall_clock`, `sleep`, `rng`) so tests can
drive the limiter deterministically.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from email.utils import parsedate_to_datetime


@dataclass
class LimiterStats:
    """Counters for reports and diagnostics."""

    retries: int = 0
    throttled_seconds: float = 0.0
    max_in_flight_seen: int = 0
    concurrency: int = 0  # current adaptive cap


@dataclass(frozen=True)
class BackoffPolicy:
    """Retry schedule: exponential backoff with jitter, `Retry-After` clamped."""

    max_attempts: int = 5  # attempts in total for throttling / gateway / connection errors
    max_attempts_500: int = 3  # a plain 500 is retried fewer times
    base: float = 0.5  # first delay, seconds
    factor: float = 2.0
    max_delay: float = 30.0
    max_retry_after: float = 60.0  # clamp for the server's Retry-After
    jitter: float = 0.5  # delay * (1 - jitter .. 1)

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Delay before retry number `attempt` (0-based)."""
        raw = min(self.max_delay, self.base * self.factor**attempt)
        return raw * (1.0 - self.jitter * rng.random())


def parse_retry_after(value: str | None, now: float) -> float | None:
    """`Retry-After` in seconds (delta-seconds or HTTP-date relative to `now`), or None."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - now
    if seconds != seconds:  # NaN  # noqa: PLR0124
        return None
    return max(0.0, seconds)


class Limiter:
    """Caps in-flight requests and request rate; adapts concurrency to throttling."""

    def __init__(
        self,
        max_concurrency: int = 4,
        max_rps: float | None = None,
        *,
        min_concurrency: int = 1,
        increase_after: int = 20,
        backoff: BackoffPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        self.max_concurrency = max_concurrency
        self.min_concurrency = max(1, min(min_concurrency, max_concurrency))
        self.max_rps = max_rps if max_rps and max_rps > 0 else None
        self.increase_after = max(1, increase_after)
        self.policy = backoff or BackoffPolicy()
        self.clock = clock
        self.wall_clock = wall_clock
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not crypto
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

    # --- retries ------------------------------------------------------------------------
    def retry_delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before retry `attempt`: the clamped `Retry-After`, else backoff."""
        server = parse_retry_after(retry_after, self.wall_clock())
        if server is not None:
            return min(server, self.policy.max_retry_after)
        return self.policy.delay(attempt, self._rng)

    async def backoff(self, attempt: int, retry_after: str | None = None) -> float:
        """Sleep before a retry (call it without holding a slot); returns the delay."""
        delay = self.retry_delay(attempt, retry_after)
        self._stats.retries += 1
        self._stats.throttled_seconds += delay
        await self._sleep(delay)
        return delay
