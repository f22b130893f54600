"""Load a `Library` in O(pages + tags + albums) requests (docs/engine.md#reads).

Assets come from the paged search (1000 a page); asset->tags from one paged search per tag
the rules care about (closure is the server's); asset->albums from one listing per album that
can matter, skipped when the album cache says the album is unchanged. Everything runs
concurrently through the client's limiter. No request per asset, on any path.
"""

from __future__ import annotations

import asyncio
import re
import sys
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
INTERN_IN_THREAD = 5000  # longer id lists are interned in a worker thread (~20 ms a 100,000)
DATED_NAME = re.compile(r"^\d{4}")

# (tags by path, albums by id) -> (tag paths whose members to read, album ids to list)
Selector: TypeAlias = Callable[[dict[str, Tag], dict[str, Album]], tuple[set[str], set[str]]]


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


async def _interned(ids: list[str]) -> list[str]:
    """`ids` as shared strings (the asset records' own); a long list off the event loop."""
    if len(ids) > INTERN_IN_THREAD:
        return await asyncio.to_thread(_intern_all, ids)
    return _intern_all(ids)


def _intern_all(ids: list[str]) -> list[str]:
    return [sys.intern(i) for i in ids]


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
        self.jobs = 0
        self.done = 0
        self.pages = 0

    def _tick(self) -> None:
        self.done += 1
        if self.progress is not None:
            total = self.jobs + self.pages + 1
            self.progress(Progress(RunPhase.LOADING, self.done, total))

    async def load(self, rules: Rules) -> Library:
        albums = await self._lists()
        me = self.me
        # User patterns run here: off the event loop (their cost is bounded, see patterns.py).
        doubled = tool_duplicate_names(albums, me.id)  # merged by the album_duplicates phase
        relevant = await asyncio.to_thread(
            lambda: [
                a
                for a in albums
                if (a.owner_id == me.id and a.name in doubled) or album_is_relevant(a, rules, me.id)
            ]
        )
        return await self._read(tracked_tag_paths(rules, self.lib.tags), relevant)

    async def load_selected(self, select: Selector) -> Library:
        albums = await self._lists()
        tags, album_ids = select(self.lib.tags, self.lib.albums)
        return await self._read(tags, [a for a in albums if a.id in album_ids])

    async def _lists(self) -> list[Album]:
        """Users, tags and albums (concurrently); the albums as listed."""
        lib, me = self.lib, self.me
        self.cache.bind(cache_scope(self.client.api_url, me.id, self.client.mode))
        try:  # a failed listing cancels the others (nothing outlives the run)
            async with asyncio.TaskGroup() as group:
                users_task = group.create_task(self.client.list_users())
                tags_task = group.create_task(self.client.list_tags())
                albums_task = group.create_task(self.client.list_albums())
        except BaseExceptionGroup as errors:  # surface the first failure as itself
            raise errors.exceptions[0] from None
        users, tags, albums = users_task.result(), tags_task.result(), albums_task.result()
        lib.users = users if any(u.id == me.id for u in users) else [me, *users]
        lib.tags = {t.value: t for t in tags}
        lib.albums = {a.id: a for a in albums}
        self.cache.retain(set(lib.albums))
        return albums

    async def _read(self, tracked: Iterable[str], relevant: list[Album]) -> Library:
        """The asset walk, one search per tracked tag and one listing per relevant album."""
        lib = self.lib
        self.tag_ids = {p: [] for p in tracked}
        jobs: list[Callable[[], Coroutine[Any, Any, None]]] = [
            partial(self._tag, p, lib.tags[p].id) for p in sorted(self.tag_ids) if p in lib.tags
        ]
        for album in relevant:
            cached = [] if album.asset_count == 0 else self.cache.get(album)
            if cached is not None:
                self.album_ids[album.id] = cached
            else:
                jobs.append(partial(self._album, album))
        self.jobs = len(jobs)
        queue = iter(jobs)

        async def reader() -> None:
            for job in queue:
                await job()

        # A pool of readers, not a task per album: thousands of tasks started at once (Home
        # Assistant starts tasks eagerly: a task's first step runs inside `create_task`) would
        # hold the event loop for one long step; the readers start one per turn of the loop.
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._walk_assets())
                for _ in range(min(READERS, len(jobs))):
                    await asyncio.sleep(0)  # each reader's first step in a turn of its own
                    group.create_task(reader())
        except BaseExceptionGroup as errors:  # surface the first failure as itself
            raise errors.exceptions[0] from None
        await asyncio.to_thread(self._finish)  # O(assets): keep it off the event loop
        return lib

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
        ids = await self.client.search_asset_ids(tag_id=tag_id)
        self.tag_ids[path] = ids  # interned by the client: the asset records' strings
        self._tick()

    async def _album(self, album: Album) -> None:
        self.cancel.check()
        members = await _interned(await self.client.get_album_asset_ids(album))
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
