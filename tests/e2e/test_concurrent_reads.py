"""Reads run concurrently and cost no more requests than the API's floor, on every family."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp import web

from custom_components.immich_autotag.engine.album_cache import AlbumCache
from custom_components.immich_autotag.engine.report import RunStatus
from custom_components.immich_autotag.engine.rules_loader import load_rules
from custom_components.immich_autotag.engine.snapshot import READERS, tracked_tag_paths
from custom_components.immich_autotag.immich.models import ApiMode, ServerVersion
from custom_components.immich_autotag.immich.search import CHUNK_SIZE, visible_queries
from tests.sim.generator import generate_library, generator_key
from tests.sim.library import SimLibrary
from tests.sim.server import Simulator, assert_no_violations

from .harness import RouteHandler, run_once, wrap_route
from .test_engine_core import RULES

VERSIONS = ["2.7.3", "3.0.3", "3.1.0", "3.2.2"]


def pages(n: int) -> int:
    return max(1, -(-n // CHUNK_SIZE))


def floor_of_a_steady_run(sim: Simulator, me: str, mode: ApiMode) -> dict[str, int]:
    """The fewest requests that read this library when every album listing is cached.

    Each search is `ceil(n / 1000)` pages (at least one). v3.0/3.1 send no `statistics`
    request: the cache gives every search's size as the last run left it (the asset walk's,
    and each tag's after that run's own writes), so all pages are fetched at once. v2 (two
    walks per search, no size hint) counts each asset walk and each tag search of more than
    one page; v3.2 splits its asset walk at the last walk's marks instead.
    """
    lib = sim.lib
    rules = load_rules(RULES)
    existing = {t.value: t.id for t in lib.tags.values() if t.owner_id == me}
    searches = 0
    counts = 0
    for query in visible_queries(mode, {}, {}):
        searches += pages(sim.search.count(me, query))
        counts += mode is ApiMode.V2
    for path in tracked_tag_paths(rules, existing):
        if path not in existing:
            continue
        flat = {"tagIds": [existing[path]]}
        fil = {"tagIds": {"any": [existing[path]]}}
        for query in visible_queries(mode, flat, fil):
            n = sim.search.count(me, query)
            searches += pages(n)
            counts += mode is ApiMode.V2 and n > CHUNK_SIZE
    fixed = {
        "GET /server/version": 1,
        "GET /users/me": 1,
        "GET /api-keys/me": 1,
        "GET /users": 1,
        "GET /tags": 1,
        "GET /albums": 2 if mode is ApiMode.V2 else 1,
        "POST /search/metadata": searches,
    }
    if counts:
        fixed["POST /search/statistics"] = counts
    return fixed


class AssetPagesInFlight:
    """Wraps the simulator's search route: how many asset-walk pages are served at once.

    After `reset()`, until two are in flight together, a walk page is held (at most 2 s):
    pages sent together are then seen together however slowly a loaded machine delivers
    them, and pages sent one after the other are seen alone (the count, not a time window,
    decides).
    """

    def __init__(self, sim: Simulator) -> None:
        self.now = 0
        self.most = 0
        self._together = asyncio.Event()
        self._together.set()  # nothing held before the first reset
        wrap_route(sim, "POST /search/metadata", self.wrap)

    def reset(self) -> None:
        """Count afresh (the next run), holding walk pages until two are in flight."""
        self.most = 0
        self._together.clear()

    def wrap(self, search: RouteHandler) -> RouteHandler:
        async def counted(request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
            walk = bool((params["body"] or {}).get("withExif"))
            self.now += walk
            self.most = max(self.most, self.now)
            if self.now >= 2:
                self._together.set()
            try:
                if walk:
                    with suppress(TimeoutError):
                        await asyncio.wait_for(self._together.wait(), 2)
                return await search(request, params)
            finally:
                self.now -= walk

        return counted


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_steady_run_reads_at_the_floor_with_requests_in_flight_together(
    version: str,
) -> None:
    lib = generate_library(4500, seed=11)
    big = next(t for t in lib.tags.values() if t.value == "meme")  # a tag of 3 pages
    big.assets.update(a.id for a in list(lib.assets.values())[:2500] if a.owner_id == big.owner_id)
    key = generator_key(lib)
    me = lib.user_by_email("me@example.com").id
    sim = Simulator(lib, version=version)
    walk = AssetPagesInFlight(sim)
    rules = load_rules(RULES)
    cache = AlbumCache()
    mode = ServerVersion(*(int(x) for x in version.split("."))).mode
    async with sim.serve() as url:
        first, _, _ = await run_once(sim, url, key, rules, cache=cache, max_concurrency=8)
        assert first.status is RunStatus.SUCCESS, first.errors[:3]
        for again in range(2):  # right after the first run, and again
            walk.reset()
            steady, _, writes = await run_once(sim, url, key, rules, cache=cache, max_concurrency=8)
            assert steady.status is RunStatus.SUCCESS
            assert writes == 0
            floor = floor_of_a_steady_run(sim, me, mode)
            if mode is ApiMode.V3_2 and again == 0:
                # The marks are those of the first walk, before its date repairs moved
                # assets between ranges: a range that grew past a page costs one more.
                extra = steady.api.by_endpoint["POST /search/metadata"] - floor.pop(
                    "POST /search/metadata"
                )
                assert 0 <= extra <= 5
                steady.api.by_endpoint.pop("POST /search/metadata")
            assert steady.api.by_endpoint == floor
        # Asset pages were served together (one after the other would be 1 at a time), in the
        # 8 slots the tag searches share (alone, all are in flight: test_split_search.py).
        assert walk.most >= 2
    assert_no_violations(sim)


async def test_album_listings_run_from_a_pool_not_a_task_each() -> None:
    """A library with hundreds of albums to list starts a bounded number of tasks at once.

    Home Assistant starts tasks eagerly: a task per album would run every album's first
    step (down to the limiter) inside one long step of the event loop.
    """
    lib = SimLibrary()
    me = lib.add_user("me@example.com", "Me")
    key = lib.add_api_key(me)
    for day in range(400):
        taken = datetime(2020, 1, 1, 10) + timedelta(days=day)
        asset = lib.add_asset(me, f"IMG_{day:04d}.jpg", taken=taken)
        lib.add_album(me, f"{taken:%Y-%m-%d} Event {day}", [asset])
    alive: set[asyncio.Future[Any]] = set()  # the client's tasks (not the simulator's)
    most = 0

    def factory(
        loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], **kwargs: Any
    ) -> asyncio.Future[Any]:
        nonlocal most
        kwargs["eager_start"] = True  # as Home Assistant starts tasks (3.14 passes the key too)
        task = asyncio.Task(coro, loop=loop, **kwargs)
        code = getattr(coro, "cr_code", None)
        if not task.done() and code is not None and "immich_autotag" in code.co_filename:
            alive.add(task)
            task.add_done_callback(alive.discard)
        most = max(most, len(alive))
        return task

    loop = asyncio.get_running_loop()
    loop.set_task_factory(factory)
    sim = Simulator(lib)
    try:
        async with sim.serve() as url:
            report, _, _ = await run_once(sim, url, key, load_rules(RULES), dry_run=True)
    finally:
        loop.set_task_factory(None)
    assert report.status is RunStatus.SUCCESS, report.errors[:3]
    assert report.api.by_endpoint["POST /search/metadata"] >= 400  # every album was listed
    assert most <= 4 * READERS, most  # a task per album: 1,203 here
