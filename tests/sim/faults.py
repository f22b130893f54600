"""Fault knobs of the simulator and its request statistics."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import orjson
from aiohttp import web

from .capacity import REAL_SERVER_CURVE, CapacityCurve, LoadMeter
from .timeline import Span

READ_POSTS = frozenset({"POST /search/metadata", "POST /search/statistics"})
WRITE_METHODS = frozenset({"PUT", "POST", "PATCH", "DELETE"})


@dataclass(slots=True)
class Faults:
    """Fault injection, changeable at runtime (`sim.faults.x = ...` or `POST /__sim/faults`).

    Routes are "METHOD /template" strings, e.g. "POST /search/metadata". `FaultInjector`
    (below) applies them; several may be on at once (a fault matrix).

    Capacity (see `capacity.py`): `latency_ms` (+ `jitter_ms`) is a request's solo service
    time; `max_concurrency` is the number of workers (requests beyond it queue);
    `capacity_curve` ([[in_flight, latency_ms], ...], e.g. `REAL_SERVER_CURVE`) makes the
    server processor-shared with latency rising along the curve (solo time defaults to the
    curve's latency at 1 when `latency_ms` is 0). `latency_per_item_ms` adds service time per
    item a request carries or returns (ids written, search items, albums listed).

    Outage (a server restart): once `outage_after` API requests have arrived, every request
    fails for `outage_s` seconds, then the server answers again. `outage_mode` says how:
    "502" (a proxy with nothing behind it), "500", "reset" (connections dropped), "stall"
    (requests hang until the outage ends, then their connections drop), or "mixed" (502,
    503 without Retry-After, 500 and resets at random).

    Lost answers: `lose_rate` of the requests to `lose_routes` (every write when None) are
    applied and then their connections are dropped, so the client never sees the answer.

    Transient faults: with `streak_max`, one request (the same method, path, query and body)
    meets at most that many error faults in a row (a 500, a reset, a lost answer; 429s and
    outages aside) before one gets through, whatever order the requests arrive in. A fault
    mix drawn per arrival otherwise depends on the client's request order: a client that
    retries more than `streak_max` times must always get through it.
    """

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    latency_per_item_ms: float = 0.0
    max_concurrency: int | None = None  # workers; requests beyond it queue
    capacity_curve: list[list[float]] | None = None
    rate_limit_per_s: float | None = None  # token bucket; empty -> 429 + Retry-After
    rate_burst: int = 10
    retry_after_s: float = 1.0
    throttle_every: int | None = None  # also every Nth API request answers 429 (a count)
    error_rate: float = 0.0  # random 500s
    reset_rate: float = 0.0  # random connection resets
    error_every: int | None = None  # also every Nth API request answers 500
    reset_every: int | None = None  # also every Nth API request is dropped
    seed: int = 0
    revoke_after: int | None = None  # every key turns invalid after N authenticated requests
    malformed_route: str | None = None
    malformed_mode: str = "json"  # json (not JSON) | shape (valid JSON, wrong shape)
    fail_route: str | None = None  # always 500
    stall_route: str | None = None
    stall_s: float = 30.0
    stall_count: int | None = None  # only the first N requests to stall_route stall
    outage_after: int | None = None  # API requests before the outage starts
    outage_s: float = 0.0
    outage_mode: str = "mixed"  # 502 | 500 | reset | stall | mixed
    lose_rate: float = 0.0
    lose_routes: list[str] | None = None
    streak_max: int | None = None  # error faults in a row one request may meet

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
    service_ms: defaultdict[str, float] = field(  # route -> service time given, ms
        default_factory=lambda: defaultdict(float)
    )
    # Each request served, when recording (`[]`; None: off): see `capacity.Span`.
    timeline: list[Span] | None = None

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
        self.service_ms.clear()
        if self.timeline is not None:
            self.timeline.clear()

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


def _answer(status: int, message: str) -> web.Response:
    return web.Response(
        body=orjson.dumps({"message": message}), status=status, content_type="application/json"
    )


class DroppedError(ConnectionResetError):
    """The simulator dropped the connection on purpose (the client sees no answer)."""


def _drop(request: web.Request) -> DroppedError:
    if request.transport is not None:
        request.transport.close()
    return DroppedError()


class FaultInjector:
    """Applies `Faults` around the simulator's handler: `before` it, then `after` it.

    `before` returns an error answer (or raises `DroppedError` after closing the connection)
    when a fault hits, else None; `after` may replace the handler's answer (malformed JSON)
    or lose it (the change is applied, the connection dropped).
    """

    def __init__(self, stats: SimStats) -> None:
        self._stats = stats
        self._bucket = TokenBucket()
        self._outage: tuple[float, float] | None = None  # (start, end), monotonic
        self._released = asyncio.Event()
        self._streaks: Counter[tuple[str, str, int]] = Counter()  # request -> faults in a row

    def release(self) -> None:
        """End every stall now (the simulator stops, or a test lifts the fault)."""
        self._released.set()
        self._released = asyncio.Event()

    async def _hang(self, seconds: float) -> None:
        """Hang for `seconds`, or until `release()`."""
        released = self._released
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(released.wait(), seconds)

    def outage_active(self, faults: Faults) -> float:
        """Seconds left of the outage (0 when there is none now)."""
        if self._outage is None:
            if faults.outage_after is None or faults.outage_s <= 0:
                return 0.0
            if self._stats.total < faults.outage_after:
                return 0.0
            now = time.monotonic()
            self._outage = (now, now + faults.outage_s)
        left = self._outage[1] - time.monotonic()
        return max(0.0, left)

    async def before(
        self, faults: Faults, request: web.Request, route: str, rng: random.Random
    ) -> web.StreamResponse | None:
        """A fault answer for this request, or None to let the handler run."""
        injected = self._stats.faults_injected
        left = self.outage_active(faults)
        if left > 0:
            injected["outage"] += 1
            return await self._outage_answer(faults, request, left, rng)
        stalls = faults.stall_count is None or injected["stall"] < faults.stall_count
        if faults.stall_route == route and stalls:
            injected["stall"] += 1
            await self._hang(faults.stall_s)
        limited = faults.rate_limit_per_s is not None and not self._bucket.take(
            faults.rate_limit_per_s, faults.rate_burst
        )
        if limited or self._nth(faults.throttle_every):
            injected["429"] += 1
            refused = _answer(429, "Too Many Requests")
            refused.headers["Retry-After"] = f"{faults.retry_after_s:g}"
            return refused
        if (faults.reset_rate and rng.random() < faults.reset_rate) or self._nth(
            faults.reset_every
        ):
            if await self._may_fail(faults, request):
                injected["reset"] += 1
                raise _drop(request)
        elif faults.fail_route == route or (
            (
                (faults.error_rate and rng.random() < faults.error_rate)
                or self._nth(faults.error_every)
            )
            and await self._may_fail(faults, request)
        ):
            injected["500"] += 1
            return _answer(500, "Internal server error")
        return None

    @staticmethod
    async def _identity(request: web.Request) -> tuple[str, str, int]:
        identity: tuple[str, str, int] | None = request.get("fault_identity")
        if identity is None:  # taken before the handler reads the body
            body = await request.read() if request.body_exists else b""
            identity = request["fault_identity"] = (request.method, request.path_qs, hash(body))
        return identity

    async def _may_fail(self, faults: Faults, request: web.Request) -> bool:
        """Count an error fault for this request; False once it has met `streak_max` in a row."""
        if faults.streak_max is None:
            return True
        identity = await self._identity(request)
        if self._streaks[identity] >= faults.streak_max:
            return False
        self._streaks[identity] += 1
        return True

    async def _got_through(self, faults: Faults, request: web.Request) -> None:
        if faults.streak_max is not None and self._streaks:
            self._streaks.pop(await self._identity(request), None)

    def _nth(self, every: int | None) -> bool:
        return every is not None and every > 0 and self._stats.total % every == 0

    async def _outage_answer(
        self, faults: Faults, request: web.Request, left: float, rng: random.Random
    ) -> web.StreamResponse:
        mode = faults.outage_mode
        if mode == "mixed":
            mode = rng.choice(("502", "503", "500", "reset"))
        if mode == "stall":
            await self._hang(left)
            raise _drop(request)
        if mode == "reset":
            raise _drop(request)
        status = int(mode)
        return _answer(status, "Bad Gateway" if status == 502 else "Service Unavailable")

    async def after(
        self,
        faults: Faults,
        request: web.Request,
        route: str,
        response: web.StreamResponse,
        rng: random.Random,
    ) -> web.StreamResponse:
        """The handler's answer, malformed or lost when a fault says so."""
        injected = self._stats.faults_injected
        lost = faults.lose_rate and response.status < 300
        drawn = lost and self._losable(faults, request, route) and rng.random() < faults.lose_rate
        if drawn and await self._may_fail(faults, request):
            injected["lost"] += 1
            raise _drop(request)
        await self._got_through(faults, request)
        if faults.malformed_route == route and response.status < 300:
            injected["malformed"] += 1
            if faults.malformed_mode == "shape":
                body = orjson.dumps({"unexpected": True, "items": "nope"})
            else:
                body = b'{"truncated": [1, 2'
            return web.Response(body=body, status=response.status, content_type="application/json")
        return response

    @staticmethod
    def _losable(faults: Faults, request: web.Request, route: str) -> bool:
        if faults.lose_routes is not None:
            return route in faults.lose_routes
        return request.method in WRITE_METHODS and route not in READ_POSTS
