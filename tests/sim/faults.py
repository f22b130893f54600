"""Fault knobs of the simulator and its request statistics."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .capacity import REAL_SERVER_CURVE, CapacityCurve, LoadMeter


@dataclass(slots=True)
class Faults:
    """Fault injection, changeable at runtime (`sim.faults.x = ...` or `POST /__sim/faults`).

    Routes are "METHOD /template" strings, e.g. "POST /search/metadata".
    Capacity (see `capacity.py`): `latency_ms` (+ `jitter_ms`) is a request's solo service
    time; `max_concurrency` is the number of workers (requests beyond it queue);
    `capacity_curve` ([[in_flight, latency_ms], ...], e.g. `REAL_SERVER_CURVE`) makes the
    server processor-shared with latency rising along the curve (solo time defaults to the
    curve's latency at 1 when `latency_ms` is 0). `latency_per_item_ms` adds service time per
    item a request carries or returns (ids written, search items, albums listed).
    """

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    latency_per_item_ms: float = 0.0
    max_concurrency: int | None = None  # workers; requests beyond it queue
    capacity_curve: list[list[float]] | None = None
    rate_limit_per_s: float | None = None  # token bucket; empty -> 429 + Retry-After
    rate_burst: int = 10
    retry_after_s: float = 1.0
    error_rate: float = 0.0  # random 500s
    reset_rate: float = 0.0  # random connection resets
    seed: int = 0
    revoke_after: int | None = None  # every key turns invalid after N authenticated requests
    malformed_route: str | None = None
    malformed_mode: str = "json"  # json (not JSON) | shape (valid JSON, wrong shape)
    fail_route: str | None = None  # always 500
    stall_route: str | None = None
    stall_s: float = 30.0

    def update(self, values: dict[str, Any]) -> None:
        """Set knobs from a JSON object (unknown names raise KeyError)."""
        names = {f.name for f in fields(self)}
        for name, value in values.items():
            if name not in names:
                raise KeyError(name)
            if name == "capacity_curve" and value:
                CapacityCurve(value)  # ValueError when it is not a curve
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        """The knobs as JSON."""
        return asdict(self)


def real_server_curve() -> list[list[float]]:
    """`Faults.capacity_curve` of the measured real server (`capacity.REAL_SERVER_CURVE`)."""
    return [[float(n), ms] for n, ms in REAL_SERVER_CURVE]


@dataclass(slots=True)
class SimStats:
    """What the simulator saw."""

    requests: Counter[str] = field(default_factory=Counter)  # "METHOD /template" -> count
    statuses: Counter[int] = field(default_factory=Counter)
    writes: int = 0
    in_flight: int = 0
    max_concurrency: int = 0
    violations: list[str] = field(default_factory=list)
    authenticated_requests: int = 0
    faults_injected: Counter[str] = field(default_factory=Counter)
    load: LoadMeter = field(default_factory=LoadMeter)  # busy / queue time since the reset
    search_styles: Counter[str] = field(default_factory=Counter)  # "filter" (v3.2) / "flat"

    @property
    def total(self) -> int:
        """All requests counted (API routes only)."""
        return sum(self.requests.values())

    def reads(self) -> int:
        """Requests that were not writes."""
        return self.total - self.writes

    def reset(self) -> None:
        """Zero everything."""
        self.requests.clear()
        self.statuses.clear()
        self.writes = 0
        self.max_concurrency = self.in_flight
        self.violations.clear()
        self.authenticated_requests = 0
        self.faults_injected.clear()
        self.load.reset()
        self.search_styles.clear()

    def as_dict(self) -> dict[str, Any]:
        """JSON for `/__sim/stats`."""
        return {
            "requests": dict(self.requests),
            "statuses": {str(k): v for k, v in self.statuses.items()},
            "total": self.total,
            "writes": self.writes,
            "maxConcurrency": self.max_concurrency,
            "violations": list(self.violations),
            "faultsInjected": dict(self.faults_injected),
            "load": self.load.as_dict(),
        }


class TokenBucket:
    """A token bucket for 429s."""

    def __init__(self) -> None:
        self.tokens = 0.0
        self.stamp = time.monotonic()
        self.primed = False

    def take(self, rate: float, burst: int) -> bool:
        """Take one token; False when empty."""
        now = time.monotonic()
        if not self.primed:
            self.tokens, self.primed = float(burst), True
        self.tokens = min(float(burst), self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def seeded_rng(seed: int) -> random.Random:
    """RNG for fault decisions."""
    return random.Random(seed)
