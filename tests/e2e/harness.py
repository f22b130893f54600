"""Run the engine against a simulator the way the headless runner does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any, TypedDict, Unpack

import aiohttp
from aiohttp import web

from custom_components.immich_autotag.engine.album_cache import AlbumCache
from custom_components.immich_autotag.engine.journal import Journal
from custom_components.immich_autotag.engine.journal_read import LAST, JournalContents
from custom_components.immich_autotag.engine.output_names import OutputHistory
from custom_components.immich_autotag.engine.progress import CancelToken, ProgressCallback
from custom_components.immich_autotag.engine.report import RunReport
from custom_components.immich_autotag.engine.rules import Rules
from custom_components.immich_autotag.engine.runner import run
from custom_components.immich_autotag.engine.undo import undo
from custom_components.immich_autotag.engine.verify import VerifyPolicy
from custom_components.immich_autotag.immich.client import ImmichClient
from custom_components.immich_autotag.immich.limiter import Limiter
from custom_components.immich_autotag.immich.retry import RetryPolicy
from tests.sim.server import Simulator


class RunOptions(TypedDict, total=False):
    """How `run_once` runs: the runner's options and the client's."""

    dry_run: bool
    asset_ids: Collection[str] | None
    cache: AlbumCache | None
    cancel: CancelToken | None
    progress: ProgressCallback | None
    journal: Journal | None
    max_concurrency: int  # of a new limiter (4), unless `limiter` is given
    limiter: Limiter | None
    retry: RetryPolicy | None
    verify: VerifyPolicy | None
    output_history: OutputHistory | None
    migrate_outputs: bool


async def run_once(
    sim: Simulator, url: str, key: str, rules: Rules, **options: Unpack[RunOptions]
) -> tuple[RunReport, int, int]:
    """One run; returns the report and the simulator's (requests, writes) during it."""
    before_total, before_writes = sim.stats.total, sim.stats.writes
    limiter = options.get("limiter") or Limiter(options.get("max_concurrency", 4))
    async with aiohttp.ClientSession() as session:
        client = ImmichClient(
            session,
            url,
            key,
            limiter=limiter,
            retry=options.get("retry"),
        )
        report = await run(
            client,
            rules,
            dry_run=options.get("dry_run", False),
            asset_ids=options.get("asset_ids"),
            album_cache=options.get("cache"),
            cancel=options.get("cancel"),
            progress=options.get("progress"),
            journal=options.get("journal"),
            verify=options.get("verify"),
            output_history=options.get("output_history"),
            migrate_outputs=options.get("migrate_outputs", False),
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


async def undo_once(
    sim: Simulator,
    url: str,
    key: str,
    contents: JournalContents,
    run_id: str = LAST,
    *,
    dry_run: bool = False,
    cache: AlbumCache | None = None,
    journal: Journal | None = None,
    verify: VerifyPolicy | None = None,
) -> tuple[RunReport, int, int]:
    """One undo; returns the report and the simulator's (requests, writes) during it."""
    before_total, before_writes = sim.stats.total, sim.stats.writes
    async with aiohttp.ClientSession() as session:
        client = ImmichClient(session, url, key, limiter=Limiter(4))
        report = await undo(
            client,
            contents,
            run_id,
            dry_run=dry_run,
            album_cache=cache,
            journal=journal,
            verify=verify,
        )
    return report, sim.stats.total - before_total, sim.stats.writes - before_writes
