"""Fixtures for the Immich client tests: a scripted server over HTTP, a fake clock and sleep."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import aiohttp
import pytest

from custom_components.immich_autotag.immich.client import ImmichClient
from custom_components.immich_autotag.immich.limiter import Limiter
from custom_components.immich_autotag.immich.models import ServerVersion
from custom_components.immich_autotag.immich.retry import Timing
from tests.loopback import loopback_sockets  # noqa: F401 - an autouse fixture here

from .fake_server import BASE, FakeImmich

KEY = "secret-key-123"


class FakeTime:
    """A monotonic and a wall clock that only move when `sleep` is awaited."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.wall = 1_700_000_000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def wall_clock(self) -> float:
        return self.wall

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.wall += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def limiter(fake_time: FakeTime) -> Limiter:
    return Limiter(4, clock=fake_time.clock, sleep=fake_time.sleep)


@pytest.fixture
def timing(fake_time: FakeTime) -> Timing:
    """Retries on the fake clock."""
    return Timing(
        monotonic=fake_time.clock,
        wall=fake_time.wall_clock,
        sleep=fake_time.sleep,
        rng=random.Random(7),
    )


@pytest.fixture
async def mock() -> AsyncIterator[FakeImmich]:
    """The scripted server (`fake_server.py`); fails the test if a request found no answer."""
    fake = FakeImmich()
    async with fake.serve():
        yield fake
    assert not fake.unmatched, f"requests without a scripted answer: {fake.unmatched}"


@pytest.fixture
async def session(mock: FakeImmich) -> AsyncIterator[aiohttp.ClientSession]:
    """A client session whose resolver leads `BASE` (immich.local) to the scripted server."""
    connector = aiohttp.TCPConnector(resolver=mock.resolver)
    async with aiohttp.ClientSession(connector=connector) as s:
        yield s


def make_client(
    session: aiohttp.ClientSession,
    limiter: Limiter,
    version: tuple[int, int, int] | None,
    timing: Timing | None = None,
) -> ImmichClient:
    client = ImmichClient(session, BASE, KEY, limiter=limiter, timing=timing)
    if version is not None:
        client.set_version(ServerVersion(*version))
    return client


@pytest.fixture
def client(session: aiohttp.ClientSession, limiter: Limiter, timing: Timing) -> ImmichClient:
    return make_client(session, limiter, (3, 0, 3), timing)
