"""Typed async client for the Immich API: the only code that talks HTTP.

The engine, the config flow and the headless runner use it; it adapts to the server's API
family (v2, v3.0/3.1, v3.2). Its core (transport, limiter, identity, version) is
`client_base.py`, the HTTP/retry core `transport.py`, the paged searches `search.py`, the
defensive JSON parsing `parsing.py`; the album calls are `albums.py`, the reads about one
asset `asset_reads.py`.

Writes are retried on transient failures; that is safe because every write sent is
idempotent (membership add/remove, date set to a fixed value, tag upsert by path, delete),
except `POST /albums`, which `create_album` (`albums.py`) never sends again without first
looking for the album on the server. A retry answered "already done" (a deleted album or tag
not found, a member already removed, a member already added) has reached its goal and is no
error.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncGenerator, Iterable, Sequence
from datetime import datetime
from typing import Any

from . import asset_parsing, parsing, search
from .albums import LISTING, AlbumCalls
from .asset_reads import AssetReads
from .client_base import chunks
from .models import (
    Album,
    ApiMode,
    Asset,
    BulkIdResult,
    Tag,
)
from .retry import RetryPolicy
from .search import CHUNK_SIZE
from .transport import RequestStats

__all__ = ["CHUNK_SIZE", "ImmichClient", "RequestStats"]

_WITH_EXIF = {"withExif": True}


def _parse_assets(items: list[Any]) -> list[Asset]:
    return [asset_parsing.parse_asset(item) for item in items]


class ImmichClient(AlbumCalls, AssetReads):
    """One client per config entry / headless run; every request goes through its limiter."""

    # --- assets -------------------------------------------------------------------------
    async def iter_assets(
        self, *, marks: search.Marks | None = None
    ) -> AsyncGenerator[list[Asset], None]:
        """Every non-trashed timeline/archive asset visible to the key, one page per item.

        v2 walks `timeline` then `archive`; v3.0 one walk (hidden dropped client-side);
        v3.2 the filter path with `trashedAt eq null`. Partner assets are included (the
        engine filters on owner). Pages are fetched concurrently (v3.2: split at `marks`,
        which record this walk's own for the next).
        """
        mode = await self._mode()
        async for items in self._pager.visible_items(
            mode, {}, {}, extra=_WITH_EXIF, split=True, count_first=True, marks=marks
        ):
            if items:  # a page takes tens of ms to parse: in a worker thread, not the loop
                yield await asyncio.to_thread(_parse_assets, items)

    async def iter_assets_updated_since(
        self, since: datetime | None, *, expected: int | None = None
    ) -> AsyncGenerator[list[Asset], None]:
        """`iter_assets` restricted to assets updated at or after `since` (all when None).

        `since` is on the server's clock; the check after apply reads re-dated assets this way.
        Pages are fetched concurrently: `expected` (about how many match) sizes the first
        round of pages without counting (v3.0/3.1; a larger result is walked on); without it
        the first page, then the total, then the rest.
        """
        mode = await self._mode()
        flat: dict[str, Any] = {}
        fil: dict[str, Any] = {}
        if since is not None:
            stamp = since.isoformat(timespec="milliseconds")
            flat["updatedAfter"] = stamp
            fil["updatedAt"] = {"gte": stamp}
        size = None if mode is ApiMode.V2 else expected  # v2: a walk per visibility
        async for items in self._pager.visible_items(
            mode, flat, fil, extra=_WITH_EXIF, split=True, size=size
        ):
            if items:
                yield await asyncio.to_thread(_parse_assets, items)

    async def search_asset_ids(
        self,
        *,
        tag_id: str | None = None,
        album_id: str | None = None,
        size: int | None = None,
        updated_since: datetime | None = None,
    ) -> list[str]:
        """All asset ids matching one tag (closure) or one album, paged (1000), ids only.

        Includes archive (and on v2 walks timeline and archive); excludes trashed. Pages are
        fetched concurrently; `size` (the expected count, e.g. an album's) saves counting.
        `updated_since` (server clock) keeps only assets updated at or after it.
        The ids are interned (`sys.intern`): a run's listings share the library's strings.
        """
        flat: dict[str, Any] = {}
        fil: dict[str, Any] = {}
        if updated_since is not None:
            stamp = updated_since.isoformat(timespec="milliseconds")
            flat["updatedAfter"] = stamp
            fil["updatedAt"] = {"gte": stamp}
        if tag_id is not None:
            flat["tagIds"] = [tag_id]
            fil["tagIds"] = {"any": [tag_id]}
        if album_id is not None:
            flat["albumIds"] = [album_id]
            fil["albumIds"] = {"any": [album_id]}
        ids: list[str] = []
        mode = await self._mode()
        async for page in self._pager.visible_items(
            mode, flat, fil, split=True, size=size, ids_only=True
        ):
            ids.extend(page)
        return ids

    async def has_trashed_assets(
        self, *, album_id: str | None = None, tag_id: str | None = None
    ) -> bool:
        """True when trashed assets are in the album / carry the tag (closure).

        Album counts and every other search leave trashed assets out, so a deletion that must
        not change them asks this first. One request (v2: one per timeline and archive).
        """
        mode = await self._mode()
        flat: dict[str, Any] = {"trashedAfter": "1970-01-01T00:00:00.000Z"}
        fil: dict[str, Any] = {"trashedAt": {"ne": None}}
        if album_id is not None:
            flat["albumIds"] = [album_id]
            fil["albumIds"] = {"any": [album_id]}
        if tag_id is not None:
            flat["tagIds"] = [tag_id]
            fil["tagIds"] = {"any": [tag_id]}
        if mode is ApiMode.V3_2:
            queries: list[dict[str, Any]] = [{"filter": fil}]
        else:
            visibilities = ("timeline", "archive") if mode is ApiMode.V2 else (None,)
            queries = [{**flat, "visibility": v} if v else dict(flat) for v in visibilities]
        for query in queries:
            body = {"size": 1, **query}
            page = asset_parsing.parse_search_page(
                await self._http.request("POST", "/search/metadata", body=body)
            )
            if page.items:
                return True
        return False

    async def update_assets_date(
        self, asset_ids: Sequence[str], date_time_original: str, time_zone: str | None = None
    ) -> None:
        """`PUT /assets {ids, dateTimeOriginal[, timeZone]}` in chunks of <= 1000.

        The zone comes from the date's offset ("UTC+2"); `time_zone`, an IANA name, sets a
        named zone instead (Immich keeps the instant and takes the zone).
        """
        for part in chunks(asset_ids):
            body = {"ids": part, "dateTimeOriginal": date_time_original}
            if time_zone:
                body["timeZone"] = time_zone
            await self._http.request("PUT", "/assets", body=body, items=len(part))

    # --- tags ---------------------------------------------------------------------------
    async def list_tags(self, *, retry: RetryPolicy | None = None) -> list[Tag]:
        """`GET /tags` (`retry` overrides the client's policy)."""
        data = await self._http.request("GET", "/tags", items=LISTING, policy=retry)
        return parsing.parse_tags(data)

    async def upsert_tags(self, paths: Iterable[str]) -> list[Tag]:
        """`PUT /tags {tags}`; returns the leaf tag of each path."""
        unique = list(dict.fromkeys(paths))
        tags: list[Tag] = []
        for part in chunks(unique):
            data = await self._http.request("PUT", "/tags", body={"tags": part}, items=len(part))
            tags.extend(parsing.parse_tags(data))
        return tags

    async def tag_assets(self, tag_ids: Sequence[str], asset_ids: Sequence[str]) -> int:
        """`PUT /tags/assets` (cross product) in chunks of asset ids; returns new links."""
        if not tag_ids:
            return 0
        total = 0
        for part in chunks(asset_ids):
            body = {"tagIds": list(tag_ids), "assetIds": part}
            data = await self._http.request(
                "PUT", "/tags/assets", body=body, items=len(part) * len(tag_ids)
            )
            total += parsing.parse_count(data)
        return total

    async def untag_assets(self, tag_id: str, asset_ids: Sequence[str]) -> list[BulkIdResult]:
        """`DELETE /tags/{id}/assets {ids}` in chunks."""
        return await self._bulk_ids("DELETE", "/tags/{id}/assets", tag_id, asset_ids)

    async def delete_tag(self, tag_id: str, *, retry: RetryPolicy | None = None) -> None:
        """`DELETE /tags/{id}` (`retry` overrides the client's policy)."""
        await self._http.request("DELETE", "/tags/{id}", path={"id": tag_id}, policy=retry)

    async def get_album_asset_ids(self, album: Album) -> list[str]:
        """Members of one album: v2 `GET /albums/{id}`; v3 paged search by album id.

        The ids are interned, as `search_asset_ids`'s are.
        """
        if await self._mode() is ApiMode.V2:
            data = await self._http.request(
                "GET", "/albums/{id}", path={"id": album.id}, items=album.asset_count
            )
            return [sys.intern(i) for i in parsing.parse_album(data).asset_ids or ()]
        return await self.search_asset_ids(album_id=album.id, size=album.asset_count)
