"""Load a `Library` in O(pages + tags + albums) requests (docs/engine.md#reads).

Assets come from the paged search (1000 a page); asset->tags from one paged search per tag
the rules care about (closure is the server's); asset->albums from one listing per album that
can matter, skipped when the album cache says the album is unchanged. Everything runs
concurrently through the client's limiter. No request per asset, on any path.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable
from contextlib import aclosing
from functools import partial
from typing import Any, TypeAlias

from ..immich.client import ImmichClient
from ..immich.models import Album, Asset, Tag, User
from .album_cache import AlbumCache, cache_scope
from .library import AssetRecord, Library
from .progress import CancelToken, Progress, ProgressCallback, RunPhase
from .rules import CREATED_BY, Rules, is_temp_album

READERS = 32  # tag searches and album listings at once (the limiter caps the requests)
DATED_NAME = re.compile(r"^\d{4}")

# (tags by path, albums by id) -> (tag paths whose members to read, album ids to list)
Selector: TypeAlias = Callable[[dict[str, Tag], dict[str, Album]], tuple[set[str], set[str]]]
# (tags listed, albums listed) -> what reads members once they are (tag searches, albums)
Branches: TypeAlias = Callable[
    [asyncio.Task[None], asyncio.Task[None]], tuple[Coroutine[Any, Any, None], ...]
]


def tracked_tag_paths(rules: Rules, existing: Iterable[str]) -> set[str]:
    """Tags whose members a run needs: rule tags, outputs, conflict tags, move families."""
    existing = set(existing)
    wanted = set(rules.output_tags())
    for rule in rules.all_rules():
        wanted.update(rule.tag_names)
    for conversion in rules.conversions:
        wanted.update(conversion.destination_tags)
        for source in conversion.source.tag_names:
            wanted.update(p for p in existing if p.startswith(source + "/"))
    prefix = rules.duplicates.classification_conflict_prefix
    if prefix:
        wanted.update(p for p in existing if p.startswith(prefix))
    return wanted


def album_is_relevant(album: Album, rules: Rules, me: str) -> bool:
    """True for albums whose members a run needs (docs/engine.md#reads)."""
    name = album.name
    if is_temp_album(name):
        return album.owner_id == me
    if any(rule.album_matches(name) for rule in rules.all_rules()):
        return True
    if any(name in c.destination_albums for c in rules.conversions):
        return True
    return rules.album_date_consistency.enabled and DATED_NAME.match(name) is not None


async def load_selected(
    client: ImmichClient,
    me: User,
    select: Selector,
    *,
    cache: AlbumCache | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Library:
    """Every asset, and the members of the tags and albums `select` picks from the listings.

    For a job that is not a rules run (an undo): it names what it needs once it has seen the
    server's tags and albums. The same requests as `load_library`, for fewer tags and albums.
    """
    loader = _Loader(client, me, cache if cache is not None else AlbumCache(), progress, cancel)
    return await loader.load_selected(select)


def tool_duplicate_names(albums: Iterable[Album], me: str) -> set[str]:
    """Names of which the key user has several albums, one of them created by the tool."""
    own = [a for a in albums if a.owner_id == me]
    counts = Counter(a.name for a in own)
    return {a.name for a in own if a.description == CREATED_BY and counts[a.name] > 1}


async def load_library(
    client: ImmichClient,
    rules: Rules,
    me: User,
    *,
    cache: AlbumCache | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Library:
    """Read everything a plan needs."""
    loader = _Loader(client, me, cache if cache is not None else AlbumCache(), progress, cancel)
    return await loader.load(rules)


def _first(errors: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first failure of a (nested) task group."""
    first = errors.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first


class _Loader:
    """One snapshot: the asset walk and the membership listings run concurrently."""

    def __init__(
        self,
        client: ImmichClient,
        me: User,
        cache: AlbumCache,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
    ) -> None:
        self.client = client
        self.me = me
        self.cache = cache
        self.progress = progress
        self.cancel = cancel or CancelToken()
        self.lib = Library(me=me)
        self.tag_ids: dict[str, list[str]] = {}
        self.album_ids: dict[str, list[str]] = {}
        self.tag_sizes: dict[str, int] = {}  # tag id -> assets found (next run's hints)
        self.jobs = 0
        self.done = 0
        self.pages = 0

    def _tick(self) -> None:
        self.done += 1
        if self.progress is not None:
            total = self.jobs + self.pages + 1
            self.progress(Progress(RunPhase.LOADING, self.done, total))

    async def load(self, rules: Rules) -> Library:
        me = self.me

        async def tag_searches(tags: asyncio.Task[None]) -> None:
            await tags
            await self._read_members(self._tag_jobs(tracked_tag_paths(rules, self.lib.tags)))

        async def album_listings(albums: asyncio.Task[None]) -> None:
            await albums
            listed = list(self.lib.albums.values())
            doubled = tool_duplicate_names(listed, me.id)  # merged by album_duplicates
            # User patterns run here: off the event loop (their cost is bounded, patterns.py).
            relevant = await asyncio.to_thread(
                lambda: [
                    a
                    for a in listed
                    if (a.owner_id == me.id and a.name in doubled)
                    or album_is_relevant(a, rules, me.id)
                ]
            )
            await self._read_members(self._album_jobs(relevant))

        return await self._load(lambda tags, albums: (tag_searches(tags), album_listings(albums)))

    async def load_selected(self, select: Selector) -> Library:
        async def members(tags: asyncio.Task[None], albums: asyncio.Task[None]) -> None:
            await tags
            await albums
            paths, album_ids = select(self.lib.tags, self.lib.albums)
            relevant = [a for a in self.lib.albums.values() if a.id in album_ids]
            await self._read_members(self._tag_jobs(paths) + self._album_jobs(relevant))

        return await self._load(lambda tags, albums: (members(tags, albums),))

    async def _load(self, branches: Branches) -> Library:
        """The asset walk, the listings and the `branches` that follow them, all at once.

        The walk needs nothing the listings give, so it does not wait for them; each branch
        waits for the listing it needs (`branches(tags_listed, albums_listed)`).
        """
        lib, me, client = self.lib, self.me, self.client
        self.cache.bind(cache_scope(client.api_url, me.id, client.mode))

        async def users() -> None:
            listed = await client.list_users()
            lib.users = listed if any(u.id == me.id for u in listed) else [me, *listed]

        async def tags() -> None:
            lib.tags = {t.value: t for t in await client.list_tags()}

        async def albums() -> None:
            listed = await client.list_albums()
            lib.albums = {a.id: a for a in listed}
            self.cache.retain(set(lib.albums))

        try:  # a failed request cancels the others (nothing outlives the run)
            async with asyncio.TaskGroup() as group:
                group.create_task(self._walk_assets())
                group.create_task(users())
                tags_listed = group.create_task(tags())
                albums_listed = group.create_task(albums())
                for branch in branches(tags_listed, albums_listed):
                    group.create_task(branch)
        except BaseExceptionGroup as errors:  # surface the first failure as itself
            raise _first(errors) from None
        self.cache.keep_tag_sizes(self.tag_sizes)
        await asyncio.to_thread(self._finish)  # O(assets): keep it off the event loop
        return lib

    def _tag_jobs(self, tracked: Iterable[str]) -> list[Callable[[], Coroutine[Any, Any, None]]]:
        """One search per tracked tag that exists (a missing one has no members).

        The largest (as the last run found them) first: their pages start before the rest.
        """
        tags, cache = self.lib.tags, self.cache
        self.tag_ids.update({p: [] for p in tracked})
        present = sorted(
            (p for p in tracked if p in tags), key=lambda p: (-(cache.tag_size(tags[p].id) or 0), p)
        )
        return [partial(self._tag, p, tags[p].id) for p in present]

    def _album_jobs(self, relevant: list[Album]) -> list[Callable[[], Coroutine[Any, Any, None]]]:
        """One listing per relevant album the cache cannot answer."""
        jobs: list[Callable[[], Coroutine[Any, Any, None]]] = []
        for album in relevant:
            cached = [] if album.asset_count == 0 else self.cache.get(album)
            if cached is not None:
                self.album_ids[album.id] = cached
            else:
                jobs.append(partial(self._album, album))
        return jobs

    async def _read_members(self, jobs: list[Callable[[], Coroutine[Any, Any, None]]]) -> None:
        """Run `jobs` from a pool of readers, not a task each.

        Thousands of tasks started at once (Home Assistant starts tasks eagerly: a task's
        first step runs inside `create_task`) would hold the event loop for one long step;
        the readers start one per turn of the loop.
        """
        self.jobs += len(jobs)
        queue = iter(jobs)

        async def reader() -> None:
            for job in queue:
                await job()

        async with asyncio.TaskGroup() as group:
            for _ in range(min(READERS, len(jobs))):
                await asyncio.sleep(0)  # each reader's first step in a turn of its own
                group.create_task(reader())

    async def _walk_assets(self) -> None:
        marks = self.cache.marks()
        async with aclosing(self.client.iter_assets(marks=marks)) as pages:
            async for page in pages:
                self.cancel.check()
                await asyncio.to_thread(self._add_page, page)  # off the event loop
                self.pages += 1
                self._tick()
        self.cache.keep_marks(marks)

    def _add_page(self, page: list[Asset]) -> None:
        lib, me, add = self.lib, self.me.id, self.lib.add_asset
        for asset in page:
            add(AssetRecord.from_asset(asset, me))
        lib.newest_update = max(lib.newest_update, max((a.updated_at for a in page), default=""))

    async def _tag(self, path: str, tag_id: str) -> None:
        self.cancel.check()
        ids = await self.client.search_asset_ids(tag_id=tag_id, size=self.cache.tag_size(tag_id))
        self.tag_sizes[tag_id] = len(ids)
        self.tag_ids[path] = ids  # interned by the client: the asset records' strings
        self._tick()

    async def _album(self, album: Album) -> None:
        self.cancel.check()
        members = await self.client.get_album_asset_ids(album)  # interned by the client
        self.cache.put(album, members)
        self.album_ids[album.id] = members
        self._tick()

    def _finish(self) -> None:
        self._index_members()
        # The id lists are freed here, in the worker thread, not later in the event loop.
        self.tag_ids, self.album_ids = {}, {}
        self.lib.finish()

    def _index_members(self) -> None:
        lib, index = self.lib, self.lib.index
        lib.tag_members = {
            path: frozenset(index[i] for i in ids if i in index)
            for path, ids in self.tag_ids.items()
        }
        for album_id, ids in self.album_ids.items():
            known = frozenset(index[i] for i in ids if i in index)
            lib.album_members[album_id] = known
            # Members the run cannot see: other users' assets (listed, or only counted when
            # the server lists just the key user's own, as v3.0 does).
            foreign = max(len(ids), lib.albums[album_id].asset_count) - len(known)
            if foreign > 0:
                lib.album_foreign[album_id] = foreign
