"""Small reads about assets, never a snapshot of the whole library.

For explaining one asset: `GET /assets/{id}` (the asset with its exif data and tags),
`GET /albums?assetId=` (the albums holding it, owned and shared with the key's user) and
`GET /duplicates` (every duplicate group with its members; needs `duplicate.read`). For
watching for new photos: how many assets were uploaded after a moment (one
`POST /search/statistics`; without `asset.statistics` the new assets' pages).
"""

from __future__ import annotations

from typing import Any

from . import asset_parsing, parsing
from .client_base import ClientBase
from .models import Album, Asset, Tag


def _asset_with_tags(data: Any) -> tuple[Asset, list[Tag]]:
    body = parsing.obj(data, "asset")
    tags = body.get("tags")
    return asset_parsing.parse_asset(body), parsing.parse_tags(tags) if tags is not None else []


class AssetReads(ClientBase):
    """The calls that read one asset and what it belongs to."""

    async def get_asset(self, asset_id: str) -> tuple[Asset, list[Tag]]:
        """`GET /assets/{id}`: the asset (with exif) and its tags."""
        data = await self._http.request("GET", "/assets/{id}", path={"id": asset_id})
        return _asset_with_tags(data)

    async def albums_of_asset(self, asset_id: str) -> list[Album]:
        """`GET /albums?assetId=`: the albums holding the asset (any API family)."""
        data = await self._http.request("GET", "/albums", params={"assetId": asset_id})
        return parsing.parse_albums(data)

    async def duplicate_members(self, duplicate_id: str) -> list[str]:
        """The asset ids of one duplicate group (`GET /duplicates`, every group: one request)."""
        groups = parsing.arr(await self._http.request("GET", "/duplicates"), "duplicates")
        for group in groups:
            body = parsing.obj(group, "duplicate group")
            if body.get("duplicateId") == duplicate_id:
                assets = parsing.arr(body.get("assets"), "duplicate assets")
                return [parsing.item_id(item) for item in assets]
        return []

    async def count_assets_created_after(self, since: str) -> int:
        """Visible assets uploaded (`createdAt`) at or after `since`, a server-clock stamp."""
        total = await self._pager.count({"createdAfter": since})
        if total is not None:
            return total
        mode = await self._mode()
        found = 0
        flat, fil = {"createdAfter": since}, {"createdAt": {"gte": since}}
        async for items in self._pager.visible_items(mode, flat, fil):
            found += len(items)
        return found
