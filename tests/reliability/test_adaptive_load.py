"""The adaptive limit with default settings against servers of different capacity.

A bulk phase is many callers with more work than the limit allows (as the apply and snapshot
stages are). The simulator's latency model is sleep-based and it measures its own busy and
queue time, so the outcomes are the server's: how busy it was kept, how many requests waited.
Phases are short (1.5 s). The limit reads latency, which the test process's own event loop
lengthens when the machine's cores are busy with other work; a phase in which that lag was
large is measured again (`bulk_until`), so an outcome judged is the limit's, not the machine's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from custom_components.immich_autotag.immich.client import ImmichClient
from custom_components.immich_autotag.immich.limiter import Limiter
from custom_components.immich_autotag.immich.session import new_session
from tests.sim.capacity import REAL_SERVER_CURVE
from tests.sim.faults import Faults, real_server_curve
from tests.sim.generator import generate_library, generator_key
from tests.sim.server import Simulator

from .common import FAST_RETRY

CALLERS = 64  # more than the limit's maximum: the limit decides what is in flight
PHASE_S = 1.5
BUSY = 0.8  # the server's workers are busy this much of a bulk phase at least
TICK = 0.01  # s, the period of the timer that measures the event loop's lag
STARVED = 0.025  # loop lag (of the service time) from which a phase measures the machine


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


async def bulk(client: ImmichClient, seconds: float = PHASE_S) -> tuple[int, float]:
    """A bulk phase: `CALLERS` callers reading as fast as they are let, cancelled at the end
    (most of them waiting for a slot); returns the requests answered and the event loop's
    mean lag meanwhile (how late a 10 ms timer fired: the test process short of CPU)."""
    done = 0
    lags: list[float] = []
    loop = asyncio.get_running_loop()

    async def caller() -> None:
        nonlocal done
        while True:
            await client.get_my_user()
            done += 1

    async def ticker() -> None:
        while True:
            start = loop.time()
            await asyncio.sleep(TICK)
            lags.append(loop.time() - start - TICK)

    tasks = [asyncio.create_task(caller()) for _ in range(CALLERS)]
    tasks.append(asyncio.create_task(ticker()))
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert client.limiter.in_flight == 0  # cancelled requests gave their slots back
    return done, sum(lags) / max(1, len(lags))


async def measured_bulk(s: Served) -> dict[str, Any]:
    """The server's load during a bulk phase after the limit's ramp-up (slow start and the
    probe that ends it: a second, at least seven round trips)."""
    await bulk(s.client, max(1.0, 7 * service_s(s)))
    loads: list[dict[str, Any]] = []

    def busy() -> bool:
        loads.append(s.sim.stats.load.as_dict())
        s.sim.stats.reset()
        return bool(loads[-1]["busyRatio"] >= BUSY)

    s.sim.stats.reset()
    await bulk_until(s, busy)
    return loads[-1]


def service_s(s: Served) -> float:
    """The solo service time of one request, s."""
    return (s.sim.faults.latency_ms or REAL_SERVER_CURVE[0][1]) / 1000


async def bulk_until(s: Served, done: Callable[[], bool]) -> None:
    """Bulk phases until `done()` after one, at most three.

    The limit reads latency, and a request's latency takes in the event loop's lag several
    times (sent, received, answered, read). A phase whose loop ran late by `STARVED` of the
    service time or more measured the machine, not the limit: the next phase decides. When
    all three were starved the test is skipped, saying so (a fair phase is always judged).
    """
    lags: list[float] = []
    for _ in range(3):
        _, lag = await bulk(s.client)
        if done() or lag < STARVED * service_s(s):
            return
        lags.append(lag)
    pytest.skip(
        f"the machine starved the test's event loop in 3 phases (a 10 ms timer fired"
        f" {min(lags) * 1000:.1f} ms late or more): latency measured the machine"
    )


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
    assert load["busyRatio"] >= BUSY, (load, s.limiter.stats)
    assert s.limiter.in_flight == 0
    stats = s.limiter.stats
    assert stats.samples > 0
    assert stats.increases + stats.decreases > 0  # it did adapt
    if faults.max_concurrency == 2:
        assert load["meanWaiting"] <= 2.0, load  # a short queue on a small server
        assert stats.concurrency <= 8


async def test_backs_off_when_another_client_loads_the_server_and_recovers() -> None:
    async with served(Faults(latency_ms=60, max_concurrency=8)) as s:
        await bulk_until(s, lambda: s.limiter.concurrency >= 8)
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
            ours, _ = await bulk(s.client)
            loaded = s.limiter.concurrency
        finally:
            stop.set()
            await asyncio.gather(*others)
        assert loaded <= alone / 2
        assert ours < theirs["n"] / 2  # it left most of the server to the other client
        await bulk_until(s, lambda: s.limiter.concurrency >= 0.75 * alone)
        assert s.limiter.concurrency >= 0.75 * alone  # grown back once the load went away
        assert s.limiter.stats.decreases > 0


async def test_429_halves_the_limit() -> None:
    """From the starting limit (8: a bulk phase first would let the machine's load decide it)."""
    async with served(Faults(latency_ms=20)) as s:
        before = s.limiter.concurrency
        assert before == 8
        s.sim.faults.rate_limit_per_s, s.sim.faults.rate_burst = 5.0, 1
        s.sim.faults.retry_after_s = 0.01
        for _ in range(2):  # the bucket's one token, then refused, retried, answered
            assert (await s.client.get_my_user()).id
        assert s.sim.stats.faults_injected["429"] >= 1
    assert s.limiter.concurrency <= before / 2
    assert s.limiter.stats.halvings >= 1
