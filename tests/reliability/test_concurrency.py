"""One limiter shared by two clients caps what the server sees; separate limiters do not."""

from __future__ import annotations

import asyncio

import aiohttp

from custom_components.immich_autotag.engine.report import RunStatus
from custom_components.immich_autotag.engine.runner import run
from custom_components.immich_autotag.immich.limiter import Limiter
from tests.sim.faults import Faults
from tests.sim.server import Simulator

from .common import build_library, make_client, rules


async def _two_dry_runs(limiters: tuple[Limiter, Limiter]) -> tuple[Simulator, list[RunStatus]]:
    built = build_library(150, 9)
    sim = Simulator(built.lib, faults=Faults(latency_ms=15.0))
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        clients = [make_client(session, url, built.key, limiter=lim) for lim in limiters]
        reports = await asyncio.gather(*(run(c, rules(), dry_run=True) for c in clients))
    return sim, [r.status for r in reports]


async def test_a_shared_limiter_caps_in_flight_requests_across_clients() -> None:
    shared = Limiter(3)
    sim, statuses = await _two_dry_runs((shared, shared))
    assert statuses == [RunStatus.SUCCESS, RunStatus.SUCCESS]
    assert sim.stats.total > 25
    assert 1 < sim.stats.max_concurrency <= 3
    assert shared.stats.max_in_flight_seen <= 3
    assert shared.in_flight == 0


async def test_separate_limiters_can_exceed_the_cap() -> None:
    sim, statuses = await _two_dry_runs((Limiter(3), Limiter(3)))
    assert statuses == [RunStatus.SUCCESS, RunStatus.SUCCESS]
    assert sim.stats.max_concurrency > 3


async def test_a_shared_limiter_under_throttling_stays_capped_and_completes() -> None:
    """429s halve the shared cap; both runs still finish and never exceed the ceiling."""
    built = build_library(150, 9)
    # one token every 10 ms, no burst: any two requests within 10 ms of each other meet a 429;
    # every 7th request too (a count: 429s however slowly a loaded machine sends)
    sim = Simulator(
        built.lib,
        faults=Faults(
            latency_ms=5.0,
            rate_limit_per_s=100.0,
            rate_burst=1,
            retry_after_s=0.02,
            throttle_every=7,
        ),
    )
    shared = Limiter(3)
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        clients = [make_client(session, url, built.key, limiter=shared) for _ in range(2)]
        reports = await asyncio.gather(*(run(c, rules(), dry_run=True) for c in clients))
    assert [r.status for r in reports] == [RunStatus.SUCCESS, RunStatus.SUCCESS]
    assert sim.stats.faults_injected["429"] > 0
    assert sum(r.api.retries for r in reports) > 0
    assert sim.stats.max_concurrency <= 3
    assert shared.stats.halvings > 0
