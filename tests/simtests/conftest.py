"""Fixtures for the simulator's own tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import aiohttp
import pytest

from tests.loopback import loopback_sockets, no_loop_debug  # noqa: F401 - autouse fixtures
from tests.sim import SimAsset, SimLibrary, Simulator, SimUser


@dataclass
class Scenario:
    """A small hand-built library."""

    lib: SimLibrary
    me: SimUser
    other: SimUser
    key: str
    assets: list[SimAsset]


@pytest.fixture
def scenario() -> Scenario:
    lib = SimLibrary()
    me = lib.add_user("me@example.com", "Me")
    other = lib.add_user("other@example.com", "Other")
    key = lib.add_api_key(me, permissions={"all"})
    assets = [
        lib.add_asset(
            me,
            f"IMG_2024071{i}_101010.jpg",
            taken=datetime(2024, 7, 10 + i, 10, 10, 10),
            time_zone="Europe/Madrid",
        )
        for i in range(5)
    ]
    lib.add_asset(other, "theirs.jpg")
    return Scenario(lib, me, other, key, assets)


class Api:
    """A tiny HTTP helper bound to a running simulator."""

    def __init__(self, session: aiohttp.ClientSession, url: str, key: str) -> None:
        self.session, self.url, self.key = session, url, key

    async def call(
        self, method: str, path: str, body: object = None, **params: str
    ) -> tuple[int, object]:
        async with self.session.request(
            method,
            f"{self.url}/api{path}",
            json=body,
            params=params or None,
            headers={"x-api-key": self.key},
        ) as resp:
            data = await resp.json(content_type=None) if resp.status != 204 else None
            return resp.status, data


@pytest.fixture
async def served(scenario: Scenario) -> AsyncIterator[tuple[Simulator, Api]]:
    sim = Simulator(scenario.lib, version="3.0.3")
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        yield sim, Api(session, url, scenario.key)
