"""Host names resolve in the project's environment (a broken resolver fails here, not for users).

aiohttp picks `AsyncResolver` (aiodns/pycares) whenever aiodns is installed, and Home Assistant
installs it; a version mismatch between the two packages breaks every URL with a host name while
127.0.0.1 keeps working. The headless runner resolves with the system resolver (`new_session`).
"""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver, ThreadedResolver

from custom_components.immich_autotag.immich.session import new_session
from tests.sim.library import SimLibrary
from tests.sim.server import Simulator


def _simulator() -> tuple[Simulator, str]:
    lib = SimLibrary()
    key = lib.add_api_key(lib.add_user("me@example.com"))
    return Simulator(lib), key


async def _resolve(resolver: AbstractResolver) -> list[str]:
    try:
        return [str(entry["host"]) for entry in await resolver.resolve("localhost", 80)]
    finally:
        await resolver.close()


async def test_default_resolver_resolves_localhost() -> None:
    assert await _resolve(DefaultResolver())


async def test_system_resolver_resolves_localhost() -> None:
    assert await _resolve(ThreadedResolver())


async def test_aiodns_resolver_resolves_localhost() -> None:
    """Home Assistant's shared session resolves through aiodns; it must work with pycares."""
    pytest.importorskip("aiodns", reason="aiodns is not installed (aiohttp then resolves itself)")
    assert await _resolve(aiohttp.AsyncResolver())


@pytest.mark.parametrize(
    "factory", [aiohttp.ClientSession, new_session], ids=["default", "headless"]
)
async def test_session_reaches_the_simulator_by_host_name(
    factory: Callable[[], aiohttp.ClientSession],
) -> None:
    sim, key = _simulator()
    async with sim.serve() as url, factory() as session:
        assert url.startswith("http://localhost:")
        async with session.get(f"{url}/api/server/version", headers={"x-api-key": key}) as resp:
            assert resp.status == 200
            assert (await resp.json())["major"] == 3
