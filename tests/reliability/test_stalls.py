"""Stalls: a server that accepts requests and never answers ends the run with a clear error.

The message names the endpoint, the time and the attempts ("POST /search/metadata did not
answer within 150 s (3 attempts)"), the run stops within the stall budget (`max_stall`, 150 s
by default; 100x shorter here), nothing is retried beyond it, and a cancel ends the wait at
once. Time bounds are checked through request counts and the message, not timers.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from custom_components.immich_autotag.engine.progress import CancelToken
from custom_components.immich_autotag.engine.report import ErrorKind, RunStatus
from custom_components.immich_autotag.immich.retry import RUN_POLICY
from tests.sim.server import Simulator

from .common import build_library, canonical, fast_retry, rules, run_sim

# 0.5 s an attempt of a small request (the product: 30 s), 1.5 s in all (150 s).
STALL_POLICY = fast_retry(answer_timeout=0.5, answer_timeout_per_item=0.0005, max_stall=1.5)


@pytest.mark.parametrize(
    ("route", "most"),
    [
        ("POST /search/metadata", 2),  # a page of 1,000: 1 s an attempt, so 2 fit in 1.5 s
        ("GET /albums", 2),  # a listing: timed like a page
        ("GET /users", 3),  # small: 0.5 s an attempt
        ("PUT /tags/assets", 3),  # a write: the run stops (nothing after it is sent)
    ],
)
async def test_a_stalled_route_ends_the_run_with_the_endpoint_and_time(
    route: str, most: int
) -> None:
    """At most `most` attempts fit in the budget; fewer when the request had to wait for a
    limiter slot behind other stalled requests (that wait counts: the budget is wall time)."""
    built = build_library(40, 5)
    before = canonical(built.lib)
    sim = Simulator(built.lib)
    async with sim.serve() as url:
        sim.faults.update({"stall_route": route, "stall_s": 3600})
        report, _ = await run_sim(sim, url, built.key, rules(), retry=STALL_POLICY)
        stalled = sim.stats.requests[route]
    assert report.status is RunStatus.FAILED
    assert report.error_kind is ErrorKind.CONNECTION
    assert report.error_message is not None
    match = re.fullmatch(
        rf"{re.escape(route)} did not answer within (\d+) s \((\d) attempts?\)",
        report.error_message,
    )
    assert match is not None, report.error_message
    assert int(match.group(1)) == 2  # the 1.5 s budget (rounded), not minutes
    attempts = int(match.group(2))
    assert 1 <= attempts <= most
    # Several requests to the route may hang at once (4 limiter slots); the run stops when
    # the first runs out of budget: at most what 4 slots send in 1.5 s of 0.5 s attempts.
    assert 1 <= stalled <= 4 * 3
    if route.startswith("GET"):
        assert canonical(built.lib) == before  # a failed read: nothing written


async def test_a_whole_server_stall_mid_run_ends_within_the_budget() -> None:
    """Everything hangs after a while (a frozen server): the run stops, naming what hung."""
    built = build_library(40, 5)
    sim = Simulator(built.lib)
    async with sim.serve() as url:
        sim.faults.update({"outage_after": 12, "outage_s": 3600, "outage_mode": "stall"})
        report, _ = await run_sim(sim, url, built.key, rules(), retry=STALL_POLICY)
        hung = sim.stats.faults_injected["outage"]
    assert report.status is RunStatus.FAILED
    assert report.error_kind is ErrorKind.CONNECTION
    assert re.fullmatch(
        r"\S+ \S+ did not answer within 2 s \(\d attempts\)", str(report.error_message)
    )
    # Every request in flight and its retries, plus one probe: bounded, not minutes of retries.
    assert hung <= 4 * 3 + 1


@pytest.mark.parametrize("route", ["POST /search/metadata", "PUT /tags/assets"])
async def test_cancel_during_a_stall_ends_the_run_at_once(route: str) -> None:
    """The client's patience would be minutes; a cancel ends a stalled read now.

    A stalled write finishes its attempt first (its outcome must be known), then stops.
    """
    built = build_library(40, 5)
    sim = Simulator(built.lib)
    policy = (
        fast_retry(answer_timeout=3.0, max_stall=60.0)
        if route.startswith("PUT")
        else (fast_retry(answer_timeout=60.0, max_stall=60.0))
    )
    cancel = CancelToken()
    async with sim.serve() as url:
        sim.faults.update({"stall_route": route, "stall_s": 3600})

        async def cancel_once_stalled() -> int:
            while not sim.stats.faults_injected["stall"]:  # noqa: ASYNC110 - polling the simulator
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)  # the requests sent together with it arrive
            cancel.cancel()
            return sim.stats.requests[route]

        canceller = asyncio.create_task(cancel_once_stalled())
        async with asyncio.timeout(20):  # the stall budget is 60 s: only the cancel ends it
            report, _ = await run_sim(sim, url, built.key, rules(), cancel=cancel, retry=policy)
        at_cancel = await canceller
        assert report.status is RunStatus.CANCELLED
        assert sim.stats.requests[route] == at_cancel  # nothing retried after the cancel
        sim.faults.stall_route = None
        sim.injector.release()
        again, _ = await run_sim(sim, url, built.key, rules())
        assert again.status is RunStatus.SUCCESS


def test_the_default_budget_ends_a_stall_within_three_minutes() -> None:
    """What the scaled tests above stand for, with the product's numbers."""
    assert RUN_POLICY.attempt_timeout() == 30  # small requests: 5 attempts fit in 150 s
    assert RUN_POLICY.attempt_timeout(1000) == 50  # a page of 1,000: 3 attempts
    assert RUN_POLICY.max_stall == 150
