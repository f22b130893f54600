"""When to retry a request, how long to wait, and when to give up (all budgets by time).

Three kinds of failure, three budgets (the numbers are `RetryPolicy`'s defaults):

* **Patience** — 429, or 503 with `Retry-After`: the server asks us to wait. We wait what it
  asks (at most 60 s at a time) for up to 10 minutes per request, and a run gives up once the
  server has let nothing through for 30 minutes in total.
* **Errors** — other 5xx, refused or reset connections: 5 attempts when the failure is the
  request's own (other requests succeed, or a probe `GET /users/me` answers), or when the
  server has not answered once yet (a wrong address rather than a restart). When the whole
  server fails after it had answered (a restart: nothing succeeds and the probe fails too),
  the request keeps trying with backoff for up to 120 s after its first failure, so a restart
  of a minute or two is ridden out.
* **No answer** — an attempt times out: each attempt waits 30 s plus 0.02 s per item the
  request carries or asks for (a page of 1,000 assets: 50 s); a request stops after 150 s
  without an answer in total.

The transport (`transport.py`) sends the attempts; this module decides. Clocks, sleep and
randomness are injectable (`Timing`) so tests can drive it deterministically.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from enum import StrEnum


@dataclass(frozen=True)
class RetryPolicy:
    """Budgets and timeouts of the retry loop (seconds unless said otherwise)."""

    # Patience: 429, and 503 with Retry-After.
    max_retry_after: float = 60.0  # one wait is at most this long
    throttle_wait_per_request: float = 600.0
    throttle_stuck_per_run: float = 1800.0  # time throttled while nothing got through
    # Errors: 5xx, refused/reset connections, timeouts.
    error_attempts: int = 5  # attempts when the failure is the request's own
    outage_ride_through: float = 120.0  # keep trying this long while the whole server fails
    # Backoff between attempts (also for a 429 without Retry-After).
    base: float = 0.5
    factor: float = 2.0
    max_delay: float = 10.0
    jitter: float = 0.5  # delay * (1 - jitter .. 1)
    # Timeouts.
    connect_timeout: float = 10.0
    answer_timeout: float = 30.0  # one attempt of a small request
    answer_timeout_per_item: float = 0.02  # plus this per item sent or expected
    max_stall: float = 150.0  # time without an answer, over all attempts of a request
    probe_timeout: float = 10.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Backoff before retry number `attempt` (0-based)."""
        raw = min(self.max_delay, self.base * self.factor ** min(attempt, 64))
        return raw * (1.0 - self.jitter * rng.random())

    def attempt_timeout(self, items: int = 0) -> float:
        """Timeout of one attempt of a request that carries or asks for `items` items."""
        return min(self.max_stall, self.answer_timeout + self.answer_timeout_per_item * items)


# Runs: patient (above). Set-up and the config flow: a person is waiting, so about 10 s.
RUN_POLICY = RetryPolicy()
FAIL_FAST = RetryPolicy(
    max_retry_after=5.0,
    throttle_wait_per_request=10.0,
    throttle_stuck_per_run=10.0,
    error_attempts=2,
    outage_ride_through=0.0,
    base=0.25,
    max_delay=1.0,
    connect_timeout=5.0,
    answer_timeout=10.0,
    answer_timeout_per_item=0.0,
    max_stall=10.0,
    probe_timeout=5.0,
)


@dataclass(frozen=True)
class Timing:
    """Clocks, sleep and randomness of the retry loop (replaced in tests)."""

    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)


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


class Failure(StrEnum):
    """What went wrong with one attempt."""

    THROTTLED = "throttled"  # 429, 503 + Retry-After
    ERROR = "error"  # other retryable 5xx, refused/reset connection
    NO_ANSWER = "no_answer"  # timed out
    FINAL = "final"  # anything else: not retried


class GiveUp(StrEnum):
    """Why a request is not retried again."""

    FINAL = "final"  # not retryable, or its own failure after its attempts
    THROTTLED = "throttled"  # the patience budget is spent
    NO_ANSWER = "no_answer"  # no answer for `max_stall`
    OUTAGE = "outage"  # the whole server failed for `outage_ride_through`


RETRYABLE_5XX = frozenset({500, 502, 503, 504, 520, 521, 522, 523, 524})


def classify(status: int, error: BaseException | None, retry_after: float | None) -> Failure:
    """The kind of a failed attempt (`status` 0 when no answer came)."""
    if error is not None:
        return Failure.NO_ANSWER if isinstance(error, TimeoutError) else Failure.ERROR
    if status == 429 or (status == 503 and retry_after is not None):  # noqa: PLR2004
        return Failure.THROTTLED
    if status in RETRYABLE_5XX:
        return Failure.ERROR
    return Failure.FINAL


class ServerHealth:
    """What every request to one server has seen: successes, probes, throttled time."""

    def __init__(self, timing: Timing, probe: Callable[[float], Awaitable[bool]]) -> None:
        """`probe(seconds)` asks the server whether it answers at all."""
        self._timing = timing
        self._probe = probe
        self.successes = 0
        self.probes = 0
        self._last_success = timing.monotonic()
        self.latest_ok_sent = -math.inf  # when the latest request that succeeded was sent
        self._probing: asyncio.Future[bool] | None = None
        self._probed: tuple[float, int, bool] | None = None  # (when, successes, up)
        self._stuck = 0.0
        self._accounted = self._last_success

    def success(self, sent: float) -> None:
        """A request sent at `sent` (monotonic) got its answer."""
        self.successes += 1
        self._last_success = self._timing.monotonic()
        self.latest_ok_sent = max(self.latest_ok_sent, sent)

    def answered_since(self, moment: float) -> bool:
        """Whether a request sent after `moment` got its answer (the server is up)."""
        return self.latest_ok_sent > moment

    def start_run(self) -> None:
        """A new run begins: its throttle budget is full again."""
        self._stuck = 0.0
        self._accounted = self._timing.monotonic()

    @property
    def stuck(self) -> float:
        """Seconds of this run in which requests waited on throttling and none succeeded."""
        return self._stuck

    def throttled_until_now(self, since: float) -> None:
        """A throttle wait that began at `since` ended now: count the part without progress."""
        now = self._timing.monotonic()
        start = max(since, self._last_success, self._accounted)
        if now > start:
            self._stuck += now - start
        self._accounted = max(self._accounted, now)

    async def is_up(self, within: float, fresh_for: float) -> bool:
        """Whether the server answers at all (one probe shared by concurrent callers)."""
        now = self._timing.monotonic()
        if self._probed is not None:
            when, successes, up = self._probed
            if now - when < fresh_for and successes == self.successes:
                return up
        if self._probing is None:
            self._probing = asyncio.ensure_future(self._run_probe(within))
        return await asyncio.shield(self._probing)

    async def _run_probe(self, within: float) -> bool:
        try:
            self.probes += 1
            up = await self._probe(within)
            self._probed = (self._timing.monotonic(), self.successes, up)
            return up
        finally:
            self._probing = None


class RequestRetry:
    """The retry state of one logical request."""

    def __init__(
        self, policy: RetryPolicy, timing: Timing, health: ServerHealth, timeout: float
    ) -> None:
        self.policy = policy
        self._timing = timing
        self._health = health
        self.timeout = timeout  # of the next attempt
        self.attempts = 0
        self.errors = 0  # failed attempts (errors and no answers) since the budget was full
        self._stall_since: float | None = None  # when the first unanswered attempt was sent
        self.throttled = 0.0  # seconds waited on the server's request
        self.throttles = 0
        self._first_error: float | None = None  # when the current run of failures began
        self._last_sent = -math.inf  # when the latest failed attempt was sent
        self._outage = False

    @property
    def no_answer(self) -> float:
        """Seconds since the first attempt that got no answer was sent (0 when none)."""
        if self._stall_since is None:
            return 0.0
        return self._timing.monotonic() - self._stall_since

    def stall_left(self) -> float | None:
        """Seconds left of the stall budget, once an attempt got no answer (else None).

        Wall time: waiting for a limiter slot behind other stalled requests counts too.
        """
        if self._stall_since is None:
            return None
        return self.policy.max_stall - self.no_answer

    @property
    def elapsed_in_outage(self) -> float:
        """Seconds since the first failure of the current outage (0 when none)."""
        if self._first_error is None:
            return 0.0
        return self._timing.monotonic() - self._first_error

    def retry_after(self, header: str | None) -> float | None:
        """The server's `Retry-After`, parsed."""
        return parse_retry_after(header, self._timing.wall())

    async def next_delay(
        self,
        failure: Failure,
        retry_after: float | None,
        elapsed: float,
        sent: float | None = None,
    ) -> float | GiveUp:
        """Seconds to wait before the next attempt, or why to stop.

        `elapsed` is how long the failed attempt took (for timeouts), `sent` when it was sent
        (monotonic; default: `elapsed` ago).
        """
        self.attempts += 1
        if failure is Failure.FINAL:
            return GiveUp.FINAL
        if failure is Failure.THROTTLED:
            return self._throttled(retry_after)
        when = self._timing.monotonic() - elapsed if sent is None else sent
        return await self._failed(failure, when)

    def _throttled(self, retry_after: float | None) -> float | GiveUp:
        policy = self.policy
        if retry_after is not None:
            delay = min(retry_after, policy.max_retry_after)
        else:
            delay = policy.delay(self.throttles, self._timing.rng)
        self.throttles += 1
        if self.throttled + delay > policy.throttle_wait_per_request:
            return GiveUp.THROTTLED
        if self._health.stuck + delay > policy.throttle_stuck_per_run:
            return GiveUp.THROTTLED
        self.throttled += delay
        return delay

    async def _failed(self, failure: Failure, sent: float) -> float | GiveUp:
        policy, health = self.policy, self._health
        if self._outage and health.answered_since(self._last_sent):
            self._reset()  # the outage is over: this request's budget is full again
        if self._first_error is None:
            self._first_error = self._timing.monotonic()
        self._last_sent = sent
        self.errors += 1
        if failure is Failure.NO_ANSWER:
            if self._stall_since is None:
                self._stall_since = sent
            remaining = policy.max_stall - self.no_answer
            if remaining <= policy.max_stall * 0.01:
                return GiveUp.NO_ANSWER
            self.timeout = min(self.timeout, remaining)
        delay = policy.delay(self.errors - 1, self._timing.rng)
        if self.errors < policy.error_attempts:
            return delay
        if not self._outage:
            if await self._own_failure():
                return GiveUp.FINAL
            self._outage = True
        if self.elapsed_in_outage + delay > policy.outage_ride_through:
            return GiveUp.OUTAGE
        return delay

    async def _own_failure(self) -> bool:
        """True when the server is up and only this request fails (no outage to ride out)."""
        policy, health = self.policy, self._health
        if policy.outage_ride_through <= 0 or health.successes == 0:
            return True  # never answered yet: a wrong address rather than a restart
        if health.answered_since(self._last_sent):
            return True  # a request sent after this one's last attempt got its answer
        return await health.is_up(policy.probe_timeout, fresh_for=policy.max_delay)

    def _reset(self) -> None:
        self._first_error = None
        self._outage = False
        self.errors = 0
