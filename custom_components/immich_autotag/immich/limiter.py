"""Request limiter: in-flight cap, optional requests per second, adaptive concurrency.

INTERFACE CONTRACT (filled in by the client issue). One limiter per config entry; it may be
shared by several clients that talk to the same server.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LimiterStats:
    """Counters for reports and diagnostics."""

    retries: int = 0
    throttled_seconds: float = 0.0
    max_in_flight_seen: int = 0
    concurrency: int = 0  # current adaptive cap


class Limiter:
    """Caps in-flight requests and request rate; adapts concurrency to throttling."""

    def __init__(self, max_concurrency: int = 4, max_rps: float | None = None) -> None:
        raise NotImplementedError

    @property
    def stats(self) -> LimiterStats:
        """Counters."""
        raise NotImplementedError
