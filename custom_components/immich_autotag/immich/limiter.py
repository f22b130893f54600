"""Request limiter: an adaptive in-flight limit and an optional requests-per-second cap.

One limiter per server: in Home Assistant every entry on the same server shares it
(`connection.py`); the headless runner makes one per run. The transport takes a slot per
attempt and reports the answer on it:

    async with limiter.slot("GET /albums") as permit:
        ... send, read the body ...
        permit.answered(status, size_in_bytes)

The limit adapts (`adaptive.py`): it grows while latency stays flat, shrinks when latency
rises (the server queues) and halves on 429/503, between 1 and `max_concurrency`. Latency is
measured per attempt from the moment the request may go (after the slot and the rate token)
to the answer's headers (`headers`, else `answered`), so time spent waiting for a slot or a
token, or reading a big body on a busy client, is not latency. An attempt that ends
without an answer (cancelled, connection error) teaches it nothing, and the transport waits
between attempts (`retry.py`) without holding a slot, so a sleeping retry neither blocks other
requests nor counts as latency.

The clock and the sleep are injectable so tests can drive the limiter deterministically.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import TypeAlias

from .adaptive import AdaptiveLimit, size_bucket

DEFAULT_MAX_CONCURRENCY = 32
MAX_CONCURRENCY = 64  # the highest ceiling a user may set (options, --max-concurrency)
MAX_RPS = 1000.0  # the highest requests/second cap a user may set (0 = no cap)
INITIAL_CONCURRENCY = 8
THROTTLE_STATUSES = frozenset({429, 503})
RECENT = 20  # limits of the last windows in the stats

# A slot granted: (when, requests in flight then, whether the limit held requests back)
Grant: TypeAlias = tuple[float, int, bool]


@dataclass
class LimiterStats:
    """Counters and the limit's history, for reports and diagnostics."""

    max_in_flight_seen: int = 0
    concurrency: int = 0  # the adaptive limit now
    concurrency_min: int = 0  # lowest / highest limit so far
    concurrency_max: int = 0
    concurrency_mean: float = 0.0  # mean limit over the recent adjustment windows
    increases: int = 0
    decreases: int = 0  # on rising latency (the server queues)
    halvings: int = 0  # on 429/503
    probes: int = 0  # brief windows at a quarter of the limit (re-measuring latency)
    latency_ratio: float = 1.0  # last window: latency over the unloaded latency
    queue_estimate: float = 0.0  # last window: requests estimated waiting at the server
    samples: int = 0  # answers measured
    recent: list[int] = field(default_factory=list)  # limits of the last windows


class Permit:
    """One granted slot; the transport reports the server's answer on it."""

    __slots__ = ("_limiter", "granted", "headers_at", "in_flight", "kind", "limited", "started")

    def __init__(self, limiter: Limiter, kind: str, grant: Grant) -> None:
        self._limiter = limiter
        self.kind = kind
        self.granted, self.in_flight, self.limited = grant  # when, with how many, held back
        self.started = limiter.clock()  # the request may go now: its latency starts
        self.headers_at: float | None = None

    def headers(self) -> None:
        """The answer's status and headers arrived (the server's work is done): latency ends.

        Reading the body is the client's time (a busy client reads a big page slowly), not
        the server's, so it does not count as latency.
        """
        self.headers_at = self._limiter.clock()

    def answered(self, status: int, size: int = 0) -> None:
        """The server answered with `status`; `size`: request plus response bytes."""
        self._limiter.learn(self, status, size)


class Limiter:
    """Caps in-flight requests (adaptively) and the request rate."""

    def __init__(
        self,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_rps: float | None = None,
        *,
        initial_concurrency: int = INITIAL_CONCURRENCY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        self.max_concurrency = max_concurrency
        self.max_rps = max_rps if max_rps and max_rps > 0 else None
        self.clock = clock
        self._sleep = sleep
        self.adaptive = AdaptiveLimit(max_concurrency, initial=initial_concurrency, start=clock())
        self._in_flight = 0
        self._waiters: deque[asyncio.Future[Grant]] = deque()
        self._tokens = float(self._burst)
        self._last_refill: float | None = None
        self._max_in_flight_seen = 0
        self._samples = 0

    @property
    def stats(self) -> LimiterStats:
        """Counters and the limit's history (a snapshot)."""
        limit, history = self.adaptive.limit, self.adaptive.history
        recent = list(history.recent)
        return LimiterStats(
            max_in_flight_seen=self._max_in_flight_seen,
            concurrency=limit,
            concurrency_min=min(limit, history.lowest or limit),
            concurrency_max=max(limit, history.highest or limit),
            concurrency_mean=round(sum(recent) / len(recent), 2) if recent else float(limit),
            increases=history.increases,
            decreases=history.decreases,
            halvings=history.halvings,
            probes=history.probes,
            latency_ratio=round(history.last_ratio, 3),
            queue_estimate=round(history.last_queue, 2),
            samples=self._samples,
            recent=recent[-RECENT:],
        )

    def mark(self) -> int:
        """A point in the limit's history, for `summary_since` (e.g. when a run starts)."""
        return self.adaptive.history.windows

    def summary_since(self, mark: int) -> dict[str, float]:
        """The limit now and its lowest, highest and mean over the windows since `mark`."""
        limits = [*self.adaptive.history.since(mark), self.adaptive.limit]
        return {
            "limit": limits[-1],
            "min": min(limits),
            "max": max(limits),
            "mean": round(sum(limits) / len(limits), 1),
        }

    @property
    def concurrency(self) -> int:
        """The adaptive limit on in-flight requests now."""
        return self.adaptive.limit

    @property
    def in_flight(self) -> int:
        """Requests currently holding a slot."""
        return self._in_flight

    @property
    def _burst(self) -> float:
        return max(1.0, self.max_rps) if self.max_rps else 1.0

    # --- slots --------------------------------------------------------------------------
    @asynccontextmanager
    async def slot(self, kind: str = "") -> AsyncIterator[Permit]:
        """Hold one in-flight slot (and one rate token) for one attempt of a `kind` request."""
        grant = await self._acquire()
        try:
            await self._take_token()
            yield Permit(self, kind, grant)
        finally:
            self._release()

    async def _acquire(self) -> Grant:
        """Take a slot (waiting in line when the limit is reached)."""
        if self._in_flight < self.adaptive.limit and not self._waiters:
            return self._grant(limited=False)
        fut: asyncio.Future[Grant] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            return await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self._release()  # granted, then cancelled: hand the slot on
            else:
                with suppress(ValueError):
                    self._waiters.remove(fut)
            raise

    def _grant(self, *, limited: bool) -> Grant:
        """One more in flight; `limited`: it had to wait, or it takes the last slot."""
        self._in_flight += 1
        self._max_in_flight_seen = max(self._max_in_flight_seen, self._in_flight)
        return self.clock(), self._in_flight, limited or self._in_flight >= self.adaptive.limit

    def _release(self) -> None:
        self._in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self._in_flight < self.adaptive.limit:
            fut = self._waiters.popleft()
            if fut.done():
                continue
            fut.set_result(self._grant(limited=True))

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
    def learn(self, permit: Permit, status: int, size: int) -> None:
        """An answer to `permit`'s attempt: 429/503 halve the limit, other answers are samples.

        A sample's concurrency is the most requests in flight (itself included) when its slot
        was granted or it was answered: the requests that shared the server with it; it
        belongs to the limit under which its slot was granted. Other server errors
        (5xx) say nothing reliable about queueing and are ignored.
        """
        now = self.clock()
        if status in THROTTLE_STATUSES:
            self.adaptive.throttled(started=permit.granted, now=now)
            return
        if status >= 500:  # noqa: PLR2004
            return
        self._samples += 1
        answered = now if permit.headers_at is None else permit.headers_at
        self.adaptive.sample(
            f"{permit.kind}#{size_bucket(size)}",
            answered - permit.started,
            in_flight=max(permit.in_flight, self._in_flight),
            started=permit.granted,
            now=now,
            limited=permit.limited,
        )
        self._wake()
