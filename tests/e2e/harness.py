"""Run the engine against a simulator the way the headless runner does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

import aiohttp
from aiohttp import web

from custom_components.immich_autotag.engine.album_cache import AlbumCache
from custom_components.immich_autotag.engine.journal import Journal
from custom_components.immich_autotag.engine.progress import CancelToken, ProgressCallback
from custom_components.immich_autotag.engine.report import RunReport
from custom_components.immich_autotag.engine.rules import Rules
from custom_components.immich_autotag.engine.runner import run
from custom_components.immich_autotag.engine.verify import VerifyPolicy
from custom_components.immich_autotag.immich.client import ImmichClient
from custom_components.immich_autotag.immich.limiter import Limiter
from custom_components.immich_autotag.immich.retry import RetryPolicy
from tests.sim.server import Simulator


async def run_once(
    sim: Simulator,
    url: str,
    key: str,
    rules: Rules,
    *,
    dry_run: bool = False,
    asset_ids: Collection[str] | None = None,
    cache: AlbumCache | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
    journal: Journal | None = None,
    max_concurrency: int = 4,
    limiter: Limiter | None = None,
    client_timeout: float = 60.0,
    retry: RetryPolicy | None = None,
    verify: VerifyPolicy | None = None,
) -> tuple[RunReport, int, int]:
    """One run; returns the report and the simulator's (requests, writes) during it."""
    before_total, before_writes = sim.stats.total, sim.stats.writes
    async with aiohttp.ClientSession() as session:
        client = ImmichClient(
            session,
            url,
            key,
            limiter=limiter or Limiter(max_concurrency),
            timeout=client_timeout,
            retry=retry,
        )
        report = await run(
            client,
            rules,
            dry_run=dry_run,
            asset_ids=asset_ids,
            album_cache=cache,
            cancel=cancel,
            progress=progress,
            journal=journal,
            verify=verify,
        )
    return report, sim.stats.total - before_total, sim.stats.writes - before_writes


RouteHandler = Callable[[web.Request, dict[str, Any]], Awaitable[web.StreamResponse]]


def wrap_route(sim: Simulator, route: str, wrapper: Callable[[RouteHandler], RouteHandler]) -> None:
    """Replace the simulator's handler of `route` ("METHOD /template") by `wrapper(handler)`."""
    dispatch = next(
        r.handler for r in sim.app.router.routes() if r.resource and "{tail" in str(r.resource)
    )
    routes: dict[str, RouteHandler] = dispatch.__self__.routes  # type: ignore[attr-defined]
    routes[route] = wrapper(routes[route])
