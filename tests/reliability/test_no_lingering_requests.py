"""A failed read ends the run with nothing of it still running (sibling reads are cancelled).

Concurrent reads that outlive a failed run keep loading the server after the run reported
failure, and Home Assistant's test harness fails on such lingering tasks.
"""

from __future__ import annotations

import asyncio

import aiohttp

from custom_components.immich_autotag.engine.report import ErrorKind, RunStatus
from custom_components.immich_autotag.engine.runner import run
from custom_components.immich_autotag.immich.client import ImmichClient
from custom_components.immich_autotag.immich.limiter import Limiter
from tests.sim.faults import Faults
from tests.sim.server import Simulator

from .common import build_library, rules


def client_tasks() -> list[str]:
    """Unfinished tasks running a client request."""
    names = [task.get_coro().__qualname__ for task in asyncio.all_tasks() if not task.done()]  # type: ignore[union-attr]
    return [name for name in names if name.startswith("ImmichClient.")]


async def test_a_failed_listing_cancels_the_listings_beside_it() -> None:
    built = build_library(30, 2)
    faults = Faults(malformed_route="GET /tags", stall_route="GET /albums", stall_s=3.0)
    sim = Simulator(built.lib, faults=faults)
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        client = ImmichClient(session, url, built.key, limiter=Limiter(4))
        async with asyncio.timeout(2):  # well before the stall ends
            report = await run(client, rules())
        await asyncio.sleep(0)  # let cancelled tasks finish
        assert report.status is RunStatus.FAILED
        assert report.error_kind is ErrorKind.INVALID_RESPONSE, report.error_message
        assert client_tasks() == []  # checked while the session is still open
    assert sim.stats.writes == 0
