"""Limiter: concurrency cap, adaptation, rate bucket, cancellation safety."""

from __future__ import annotations

import asyncio
import random
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import pytest

from custom_components.immich_autotag.immich.client import ImmichClient
from custom_components.immich_autotag.immich.limiter import Limiter
from custom_components.immich_autotag.immich.retry import RetryPolicy, parse_retry_after

from . import payloads as p
from .conftest import KEY, FakeTime
from .fake_server import BASE, FakeImmich, Reply, Sent


def fake_limiter(fake_time: FakeTime, **kwargs: Any) -> Limiter:
    return Limiter(clock=fake_time.clock, sleep=fake_time.sleep, **kwargs)


async def test_cap_never_exceeded_through_client(
    session: aiohttp.ClientSession, mock: FakeImmich
) -> None:
    limiter = Limiter(3)
    client = ImmichClient(session, BASE, KEY, limiter=limiter)
    state = {"now": 0, "max": 0}

    async def server(_req: Sent) -> Reply:
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        await asyncio.sleep(0.001)
        state["now"] -= 1
        return Reply(payload=p.admin_user())

    mock.get(f"{BASE}/users/me", callback=server, repeat=True)
    users = await asyncio.gather(*(client.get_my_user() for _ in range(30)))
    assert len(users) == 30
    assert state["max"] == 3
    assert limiter.stats.max_in_flight_seen == 3
    assert limiter.in_flight == 0


async def test_default_constructor() -> None:
    limiter = Limiter()
    assert limiter.max_concurrency == 32  # the hard maximum
    assert limiter.concurrency == 8  # where the adaptive limit starts
    assert limiter.max_rps is None
    assert limiter.stats.concurrency == 8
    assert Limiter(2).concurrency == 2
    limiter2 = Limiter(max_concurrency=2, max_rps=5)
    assert limiter2.max_rps == 5
    with pytest.raises(ValueError, match="max_concurrency"):
        Limiter(0)


async def bulk_round(
    limiter: Limiter, fake_time: FakeTime, latency: float, status: int = 200
) -> int:
    """Take every slot the limit allows, let `latency` pass, answer them all; the new limit."""
    async with AsyncExitStack() as stack:
        permits = [
            await stack.enter_async_context(limiter.slot("GET /users/me"))
            for _ in range(limiter.concurrency)
        ]
        fake_time.now += latency
        for permit in permits:
            permit.answered(status, 300)
    return limiter.concurrency


async def test_flat_latency_grows_to_the_maximum(fake_time: FakeTime) -> None:
    limiter = fake_limiter(fake_time, initial_concurrency=4)
    assert [await bulk_round(limiter, fake_time, 0.04) for _ in range(5)] == [4, 8, 16, 32, 32]
    stats = limiter.stats
    assert stats.concurrency == stats.concurrency_max == 32
    assert stats.concurrency_min == 4
    assert stats.increases == 3
    assert stats.samples == 4 + 4 + 8 + 16 + 32
    assert stats.recent == [8, 16, 32, 32]
    assert limiter.in_flight == 0


async def test_latency_rising_with_concurrency_shrinks_the_limit(fake_time: FakeTime) -> None:
    """A server with 2 workers: n in flight take n/2 times as long."""
    limiter = fake_limiter(fake_time, initial_concurrency=16)
    for _ in range(3):
        await bulk_round(limiter, fake_time, 0.04)  # the first answers: unloaded latency
    limits = [await bulk_round(limiter, fake_time, 0.02 * limiter.concurrency) for _ in range(40)]
    assert max(limits[-10:]) <= 4  # 2 serving, at most 2 waiting
    stats = limiter.stats
    assert stats.decreases > 0
    assert stats.latency_ratio > 1.0


async def test_throttled_answers_halve_once_per_round(fake_time: FakeTime) -> None:
    limiter = fake_limiter(fake_time, initial_concurrency=16)
    assert await bulk_round(limiter, fake_time, 0.04, status=429) == 8  # 16 refusals, one halving
    assert await bulk_round(limiter, fake_time, 0.04, status=503) == 4
    assert limiter.stats.halvings == 2
    assert limiter.stats.samples == 0  # refusals are no latency samples


async def test_errors_cancellations_and_token_waits_are_not_latency(fake_time: FakeTime) -> None:
    limiter = fake_limiter(fake_time, max_rps=1)
    async with limiter.slot("GET /albums") as permit:
        pass  # no answer: a connection error or a cancelled request
    async with limiter.slot("GET /albums") as permit:
        assert fake_time.sleeps == [1.0]  # waited for the rate token...
        assert permit.started == fake_time.now  # ...before its latency started counting
        permit.answered(500, 10)  # a server error says nothing about queueing
    assert limiter.stats.samples == 0
    async with limiter.slot("GET /albums") as permit:
        permit.answered(404, 10)  # an answer, though not a success
    assert limiter.stats.samples == 1
    assert limiter.in_flight == 0


async def test_reduced_cap_is_enforced_and_grows_back(
    session: aiohttp.ClientSession, mock: FakeImmich, fake_time: FakeTime
) -> None:
    limiter = fake_limiter(fake_time, max_concurrency=4)
    client = ImmichClient(session, BASE, KEY, limiter=limiter)
    state = {"now": 0, "max_after": 0, "calls": 0}

    async def server(_req: Sent) -> Reply:
        state["calls"] += 1
        if state["calls"] == 1:
            return Reply(status=429)
        state["now"] += 1
        state["max_after"] = max(state["max_after"], state["now"])
        await asyncio.sleep(0.001)
        state["now"] -= 1
        return Reply(payload=p.admin_user())

    mock.get(f"{BASE}/users/me", callback=server, repeat=True)
    await client.get_my_user()  # 429 then OK: cap 4 -> 2
    assert limiter.concurrency == 2
    await asyncio.gather(*(client.get_my_user() for _ in range(4)))
    assert state["max_after"] <= 2
    await asyncio.gather(*(client.get_my_user() for _ in range(40)))
    assert limiter.concurrency == 4  # flat latency (the fake clock stands still): back up


async def test_rate_bucket(fake_time: FakeTime) -> None:
    limiter = fake_limiter(fake_time, max_concurrency=4, max_rps=2)
    start = fake_time.now
    for _ in range(10):
        async with limiter.slot():
            pass
    # burst of 2, then one every 0.5 s
    assert fake_time.now - start == pytest.approx(4.0)


async def test_cancelled_waiter_does_not_leak(fake_time: FakeTime) -> None:
    limiter = fake_limiter(fake_time, max_concurrency=1)
    gate = asyncio.Event()

    async def hold() -> None:
        async with limiter.slot():
            await gate.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(hold())
    await asyncio.sleep(0)
    assert limiter.in_flight == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    gate.set()
    await holder
    assert limiter.in_flight == 0
    async with asyncio.timeout(1):
        async with limiter.slot():
            assert limiter.in_flight == 1
    assert limiter.in_flight == 0


async def test_cancel_after_grant_passes_slot_on(fake_time: FakeTime) -> None:
    limiter = fake_limiter(fake_time, max_concurrency=1)
    gate = asyncio.Event()
    entered: list[str] = []

    async def hold(name: str) -> None:
        async with limiter.slot():
            entered.append(name)
            await gate.wait()

    first = asyncio.create_task(hold("a"))
    await asyncio.sleep(0)
    second = asyncio.create_task(hold("b"))
    third = asyncio.create_task(hold("c"))
    await asyncio.sleep(0)
    gate.set()
    await asyncio.sleep(0)  # first exits and grants the slot to second...
    second.cancel()  # ...which is cancelled before it runs
    await first
    with pytest.raises(asyncio.CancelledError):
        await second
    await asyncio.wait_for(third, 1)
    assert "c" in entered
    assert limiter.in_flight == 0


async def test_cancel_during_request_releases(
    session: aiohttp.ClientSession, mock: FakeImmich
) -> None:
    limiter = Limiter(1)
    client = ImmichClient(session, BASE, KEY, limiter=limiter)
    started = asyncio.Event()

    async def slow(_req: Sent) -> Reply:
        if not started.is_set():
            started.set()
            await asyncio.sleep(10)
        return Reply(payload=p.admin_user())

    mock.get(f"{BASE}/users/me", callback=slow, repeat=True)
    task = asyncio.create_task(client.get_my_user())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert limiter.in_flight == 0
    assert (await asyncio.wait_for(client.get_my_user(), 1)).id == p.OWNER


async def test_cancel_during_backoff(session: aiohttp.ClientSession, mock: FakeImmich) -> None:
    limiter = Limiter(1)
    client = ImmichClient(session, BASE, KEY, limiter=limiter, retry=RetryPolicy(base=30))
    mock.get(f"{BASE}/users/me", status=503)
    task = asyncio.create_task(client.get_my_user())
    for _ in range(50):
        await asyncio.sleep(0)
        if client.stats.retries:
            break
    assert client.stats.retries == 1
    assert limiter.in_flight == 0  # slot released before sleeping
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert limiter.in_flight == 0


def test_parse_retry_after() -> None:
    assert parse_retry_after(None, 0) is None
    assert parse_retry_after("", 0) is None
    assert parse_retry_after("5", 0) == 5.0
    assert parse_retry_after("-3", 0) == 0.0
    assert parse_retry_after("nan", 0) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("garbage date", 0) is None


def test_backoff_policy_delays() -> None:
    policy = RetryPolicy(base=1, factor=2, max_delay=5, jitter=0)
    rng = random.Random(0)
    assert [policy.delay(n, rng) for n in range(5)] == [1, 2, 4, 5, 5]
