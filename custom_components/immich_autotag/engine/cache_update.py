"""After applying, the album cache records what the run wrote (docs/engine.md#reads).

Every album whose members or users the run changed gets a new `updatedAt` on the server, so
without this the next run would list each of them again. One album listing at the end
(`GET /albums`; two on v2) gives each album's new `(updatedAt, assetCount)`; an album whose
count is the one the run expects is cached with the members the run left it with. Any other
count means someone else changed the album meanwhile: it is dropped, so the next run lists it
and a concurrent edit is never masked. A run with failed changes, a cancelled or failed apply
and a failed listing only forget the touched albums. The listing starts as soon as the last
album change is written (`FinalListing`), beside the verification of the tags, which writes
no album.

The size hints of the tags the run changed (how many assets the next search of each will find)
follow its adds and removes, so the next run fetches their pages at once. A hint decides only
how pages are requested, never what is read.
"""

from __future__ import annotations

import asyncio

from ..immich.client import ImmichClient
from ..immich.errors import ImmichError
from ..immich.models import Album
from .album_cache import AlbumCache
from .apply import Applier
from .library import Library
from .plan import Plan


class FinalListing:
    """The run's closing `GET /albums`, started once its album changes are written."""

    def __init__(self, client: ImmichClient) -> None:
        self._client = client
        self._task: asyncio.Task[dict[str, Album] | None] | None = None

    def start(self) -> None:
        """Send the listing now (the album stages are over); at most once."""
        self._started()

    async def albums(self) -> dict[str, Album] | None:
        """The albums as listed after the writes (None when the listing failed)."""
        return await self._started()

    def _started(self) -> asyncio.Task[dict[str, Album] | None]:
        if self._task is None:
            self._task = asyncio.create_task(self._list())
        return self._task

    def cancel(self) -> None:
        """Stop a listing nobody will read (the run failed or has nothing to record)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _list(self) -> dict[str, Album] | None:
        try:
            return {album.id: album for album in await self._client.list_albums()}
        except ImmichError:
            return None


def _changed_albums(plan: Plan) -> set[str]:
    """Albums whose members or users the plan changes and that it keeps."""
    changed = set(plan.album_adds) | set(plan.album_removes)
    changed.update(change.album_id for change in plan.album_users)
    return changed - set(plan.album_deletes)


def _after(
    before: frozenset[int],
    adds: dict[str, frozenset[int]],
    removes: dict[str, frozenset[int]],
    key: str,
) -> frozenset[int]:
    """The members of `key` once the plan's adds and removes are applied."""
    return (before | adds.get(key, frozenset())) - removes.get(key, frozenset())


def lists_albums(lib: Library, plan: Plan) -> bool:
    """Whether recording the run will need the closing listing (album changes it can cache)."""
    if plan.album_creates:
        return True
    return any(album_id in lib.album_members for album_id in _changed_albums(plan))


def forget_touched(cache: AlbumCache, applier: Applier) -> None:
    """Drop the albums whose members the run changed (an incomplete apply)."""
    for album_id in applier.touched_albums:
        cache.invalidate(album_id)


def expected_members(
    lib: Library, plan: Plan, applier: Applier
) -> dict[str, tuple[int, list[str]]]:
    """Album id -> (the assetCount a complete apply leaves, the member ids it knows)."""
    ids = lib.assets.ids
    expected: dict[str, tuple[int, list[str]]] = {}
    for album_id in _changed_albums(plan):
        before = lib.album_members.get(album_id)
        if before is None:  # never listed: nothing to record
            continue
        after = _after(before, plan.album_adds, plan.album_removes, album_id)
        count = len(after) + lib.album_foreign.get(album_id, 0)
        expected[album_id] = (count, [ids[a] for a in sorted(after)])
    for album, created in applier.created_albums:
        expected[album.id] = (len(created), created)
    return expected


def expected_tag_sizes(lib: Library, plan: Plan, applier: Applier) -> dict[str, int]:
    """Tag id -> assets carrying it once the plan is applied (tags searched or created)."""
    sizes: dict[str, int] = {}
    for path in set(plan.tag_adds) | set(plan.tag_removes):
        before = lib.tag_members.get(path)
        if before is None and path not in lib.tags:  # created by this run: it had no members
            before = frozenset()
        tag_id = applier.tag_id(path)
        if tag_id is None or before is None:  # not created, or an existing tag never searched
            continue
        sizes[tag_id] = len(_after(before, plan.tag_adds, plan.tag_removes, path))
    return sizes


async def record_applied(
    listing: FinalListing, cache: AlbumCache, lib: Library, plan: Plan, applier: Applier
) -> None:
    """Re-list the albums once and cache those the run changed, if nobody else did."""
    forget_touched(cache, applier)
    for tag_id, size in expected_tag_sizes(lib, plan, applier).items():
        cache.expect_tag_size(tag_id, size)
    if applier.report.failed_changes:
        return
    # Thousands of albums on a big library: worked out off the event loop.
    expected = await asyncio.to_thread(expected_members, lib, plan, applier)
    if not expected:
        return
    albums = await listing.albums()
    if albums is None:
        return
    for album_id, (count, members) in expected.items():
        album = albums.get(album_id)
        if album is not None and album.asset_count == count:
            cache.put(album, members)
        else:
            cache.invalidate(album_id)
