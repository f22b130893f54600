"""Retry policy of the Immich client: backoff with jitter and `Retry-After`.

The transport asks this module how long to wait before the next attempt; the limiter
(`limiter.py`) only decides how many requests are in flight. Everything time-related is
injectable (`Timing`) so tests can drive retries deterministically.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class RetryPolicy:
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


def retry_delay(
    policy: RetryPolicy, timing: Timing, attempt: int, retry_after: str | None = None
) -> float:
    """Seconds to wait before retry `attempt`: the clamped `Retry-After`, else backoff."""
    server = parse_retry_after(retry_after, timing.wall())
    if server is not None:
        return min(server, policy.max_retry_after)
    return policy.delay(attempt, timing.rng)
