"""After applying, the album cache records what the run wrote (docs/engine.md#reads).

Every album whose members or users the run changed gets a new `updatedAt` on the server, so
without this the next run would list each of them again. One album listing at the end
(`GET /albums`; two on v2) gives each album's new `(updatedAt, assetCount)`; an album whose
count is the one the run expects is cached with the members the run left it with. Any other
count means someone else changed the album meanwhile: it is dropped, so the next run lists it
and a concurrent edit is never masked. A run with failed changes, a cancelled or failed apply
and a failed listing only forget the touched albums.
"""

from __future__ import annotations

import asyncio

from ..immich.client import ImmichClient
from ..immich.errors import ImmichError
from .album_cache import AlbumCache
from .apply import Applier
from .library import Library
from .plan import Plan


def forget_touched(cache: AlbumCache, applier: Applier) -> None:
    """Drop the albums whose members the run changed (an incomplete apply)."""
    for album_id in applier.touched_albums:
        cache.invalidate(album_id)


def expected_members(
    lib: Library, plan: Plan, applier: Applier
) -> dict[str, tuple[int, list[str]]]:
    """Album id -> (the assetCount a complete apply leaves, the member ids it knows)."""
    ids = lib.assets.ids
    changed = set(plan.album_adds) | set(plan.album_removes)
    changed.update(change.album_id for change in plan.album_users)
    changed.difference_update(plan.album_deletes)
    expected: dict[str, tuple[int, list[str]]] = {}
    for album_id in changed:
        before = lib.album_members.get(album_id)
        if before is None:  # never listed: nothing to record
            continue
        after = (before | plan.album_adds.get(album_id, frozenset())) - plan.album_removes.get(
            album_id, frozenset()
        )
        count = len(after) + lib.album_foreign.get(album_id, 0)
        expected[album_id] = (count, [ids[a] for a in sorted(after)])
    for album, created in applier.created_albums:
        expected[album.id] = (len(created), created)
    return expected


async def record_applied(
    client: ImmichClient, cache: AlbumCache, lib: Library, plan: Plan, applier: Applier
) -> None:
    """Re-list the albums once and cache those the run changed, if nobody else did."""
    forget_touched(cache, applier)
    if applier.report.failed_changes:
        return
    # Thousands of albums on a big library: worked out off the event loop.
    expected = await asyncio.to_thread(expected_members, lib, plan, applier)
    if not expected:
        return
    try:
        albums = {album.id: album for album in await client.list_albums()}
    except ImmichError:
        return
    for album_id, (count, members) in expected.items():
        album = albums.get(album_id)
        if album is not None and album.asset_count == count:
            cache.put(album, members)
        else:
            cache.invalidate(album_id)
