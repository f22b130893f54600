"""The adaptive limit with default settings against servers of different capacity.

A bulk phase is many callers with more work than the limit allows (as the apply and snapshot
stages are). The simulator's latency model is sleep-based and it measures its own busy and
queue time, so the outcomes are the server's: how busy it was kept, how many requests waited.
Runs are short (about 1.5 s each) and the bounds have margins for a loaded test machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from custom_components.immich_autotag.immich.client import ImmichClient
from custom_components.immich_autotag.immich.limiter import Limiter
from custom_components.immich_autotag.immich.session import new_session
from tests.sim.faults import Faults, real_server_curve
from tests.sim.generator import generate_library, generator_key
from tests.sim.server import Simulator

from .common import FAST_RETRY

CALLERS = 64  # more than the limit's maximum: the limit decides what is in flight
PHASE_S = 1.5


@dataclass
class Served:
    """A simulator with a client on default settings."""

    sim: Simulator
    url: str
    key: str
    session: aiohttp.ClientSession
    limiter: Limiter
    client: ImmichClient


@asynccontextmanager
async def served(faults: Faults) -> AsyncIterator[Served]:
    lib = generate_library(30, seed=3)
    sim = Simulator(lib, faults=faults)
    async with sim.serve() as url, new_session() as session:
        limiter = Limiter()  # the defaults: start at 8, at most 32
        client = ImmichClient(session, url, generator_key(lib), limiter=limiter, retry=FAST_RETRY)
        yield Served(sim, url, generator_key(lib), session, limiter, client)


async def bulk(client: ImmichClient, seconds: float = PHASE_S) -> int:
    """A bulk phase: `CALLERS` callers reading as fast as they are let, cancelled at the end
    (most of them waiting for a slot); returns the requests answered."""
    done = 0

    async def caller() -> None:
        nonlocal done
        while True:
            await client.get_my_user()
            done += 1

    callers = [asyncio.create_task(caller()) for _ in range(CALLERS)]
    await asyncio.sleep(seconds)
    for task in callers:
        task.cancel()
    await asyncio.gather(*callers, return_exceptions=True)
    assert client.limiter.in_flight == 0  # cancelled requests gave their slots back
    return done


async def measured_bulk(s: Served) -> dict[str, Any]:
    """The server's load during a bulk phase, after the limit's first second (its ramp-up)."""
    await bulk(s.client, 1.0)
    s.sim.stats.reset()
    await bulk(s.client)
    return s.sim.stats.load.as_dict()


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param(Faults(latency_ms=60, max_concurrency=2), id="2-workers"),
        pytest.param(Faults(latency_ms=60, max_concurrency=8), id="8-workers"),
        # fewer requests per second for the same work: the test machine's CPU stays out of it
        pytest.param(Faults(latency_ms=150, max_concurrency=24), id="24-workers"),
        pytest.param(Faults(capacity_curve=real_server_curve()), id="real-server-curve"),
    ],
)
async def test_default_settings_keep_the_server_busy(faults: Faults) -> None:
    async with served(faults) as s:
        load = await measured_bulk(s)
    assert load["busyRatio"] >= 0.8, load
    assert s.limiter.in_flight == 0
    stats = s.limiter.stats
    assert stats.samples > 0
    assert stats.increases + stats.decreases > 0  # it did adapt
    if faults.max_concurrency == 2:
        assert load["meanWaiting"] <= 2.0, load  # a short queue on a small server
        assert stats.concurrency <= 8


async def test_backs_off_when_another_client_loads_the_server_and_recovers() -> None:
    async with served(Faults(latency_ms=60, max_concurrency=8)) as s:
        await bulk(s.client)
        alone = s.limiter.concurrency
        assert alone >= 8
        stop = asyncio.Event()
        theirs = {"n": 0}

        async def other_client() -> None:  # another program, 24 requests in flight
            headers = {"x-api-key": s.key}
            while not stop.is_set():
                async with s.session.get(f"{s.url}/api/users/me", headers=headers) as resp:
                    await resp.read()
                theirs["n"] += 1

        others = [asyncio.create_task(other_client()) for _ in range(24)]
        try:
            ours = await bulk(s.client)
            loaded = s.limiter.concurrency
        finally:
            stop.set()
            await asyncio.gather(*others)
        assert loaded <= alone / 2
        assert ours < theirs["n"] / 2  # it left most of the server to the other client
        await bulk(s.client)
        assert s.limiter.concurrency >= 0.75 * alone  # grown back once the load went away
        assert s.limiter.stats.decreases > 0


async def test_429_halves_the_limit() -> None:
    async with served(Faults(latency_ms=20)) as s:
        await bulk(s.client, 0.5)
        before = s.limiter.concurrency
        assert before >= 8
        s.sim.faults.rate_limit_per_s, s.sim.faults.rate_burst = 5.0, 1
        s.sim.faults.retry_after_s = 0.01
        for _ in range(2):  # the bucket's one token, then refused, retried, answered
            assert (await s.client.get_my_user()).id
        assert s.sim.stats.faults_injected["429"] >= 1
    assert s.limiter.concurrency <= before / 2
    assert s.limiter.stats.halvings >= 1
