"""The small library an explanation of one asset needs, read in a few requests.

Not a snapshot: the asset (`GET /assets/{id}`, with its tags), the albums holding it
(`GET /albums?assetId=`), the server's tags and albums (one listing each) and, for an asset in
a duplicate group, the other members the same way (the group from `GET /duplicates` when the
key may read it, else one walk of the asset pages). Every album the rules care about is
"loaded" with the members known here and the rest counted as foreign, so the phases decide for
this asset exactly as a run does (they read only the asset, its group and album names).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from ..immich.client import ImmichClient
from ..immich.errors import ImmichBadRequestError, ImmichNotFoundError
from ..immich.models import Album, Asset, Tag, User
from .library import AssetRecord, Library
from .rules import Rules
from .snapshot import album_is_relevant, tracked_tag_paths

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
ASSET_IN_LINK = re.compile(rf"/(?:photos|assets)/({UUID.pattern})(?:/|$)", re.IGNORECASE)


class AssetRefError(ValueError):
    """Not an asset id or an Immich link to an asset (the message says what was given)."""


def asset_ref(text: str) -> str:
    """The asset id in `text`: a UUID, or an Immich link to one asset.

    Links: `.../photos/<id>` (also in an album, a share or a search), `.../assets/<id>/...`
    (the API). A link to an album or a person holds a UUID that is no asset's: refused.
    """
    path = text.strip().split("?")[0].split("#")[0]
    if UUID.fullmatch(path):
        return path.lower()
    found = ASSET_IN_LINK.findall(path)
    if found:
        return str(found[-1]).lower()
    if "/" in path and UUID.search(path):
        raise AssetRefError(
            f"{text!r} links to an album, a person or a page, not to one asset:"
            " open the photo in Immich and copy that address"
        )
    raise AssetRefError(f"{text!r} is neither an asset id nor an Immich link to an asset")


@dataclass
class AssetFocus:
    """The library around one asset, and what was read about each member."""

    lib: Library
    asset: int
    tags: dict[int, list[str]] = field(default_factory=dict)  # asset -> tag paths (direct)
    albums: dict[int, list[Album]] = field(default_factory=dict)  # asset -> albums holding it
    notes: list[str] = field(default_factory=list)


async def _read_one(client: ImmichClient, asset_id: str) -> tuple[Asset, list[Tag], list[Album]]:
    asset, tags = await client.get_asset(asset_id)
    return asset, tags, await client.albums_of_asset(asset_id)


async def _group(
    client: ImmichClient, asset: Asset, notes: list[str], *, may_read_duplicates: bool
) -> list[str]:
    """The other members of the asset's duplicate group."""
    if not asset.duplicate_id:
        return []
    if may_read_duplicates:
        ids = await client.duplicate_members(asset.duplicate_id)
    else:
        notes.append("the key lacks duplicate.read: the group was found by reading every asset")
        ids = [
            a.id
            async for page in client.iter_assets()
            for a in page
            if a.duplicate_id == asset.duplicate_id
        ]
    return [i for i in dict.fromkeys(ids) if i != asset.id]


async def load_focus(
    client: ImmichClient, rules: Rules, me: User, asset_id: str, *, may_read_duplicates: bool
) -> AssetFocus:
    """Read what explaining `asset_id` needs (see the module docstring)."""
    try:
        async with asyncio.TaskGroup() as group:
            first = group.create_task(_read_one(client, asset_id))
            tags_task = group.create_task(client.list_tags())
            albums_task = group.create_task(client.list_albums())
            users_task = group.create_task(client.list_users())
    except BaseExceptionGroup as errors:
        error = errors.exceptions[0]
        if isinstance(error, ImmichNotFoundError | ImmichBadRequestError):
            raise AssetRefError(f"asset {asset_id} was not found (or is not yours)") from None
        raise error from None
    notes: list[str] = []
    asset, asset_tags, asset_albums = first.result()
    others = await _group(client, asset, notes, may_read_duplicates=may_read_duplicates)
    members = await asyncio.gather(*(_read_one(client, i) for i in others))
    lib = Library(me=me)
    users = users_task.result()
    lib.users = users if any(u.id == me.id for u in users) else [me, *users]
    lib.tags = {t.value: t for t in tags_task.result()}
    lib.albums = {a.id: a for a in albums_task.result()}
    focus = AssetFocus(lib, 0, notes=notes)
    for read, tags, albums in [(asset, asset_tags, asset_albums), *members]:
        n = lib.add_asset(AssetRecord.from_asset(read, me.id))
        focus.tags[n] = sorted(t.value for t in tags)
        focus.albums[n] = albums
        for album in albums:
            lib.albums.setdefault(album.id, album)
    _index(focus, rules)
    lib.finish()
    return focus


def _index(focus: AssetFocus, rules: Rules) -> None:
    """Tag and album members among the assets read; the rest of each album as foreign."""
    lib = focus.lib
    paths = tracked_tag_paths(rules, lib.tags)
    for carried in focus.tags.values():
        for path in carried:
            parts = path.split("/")
            paths.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
    lib.tag_members = {
        p: frozenset(
            n
            for n, carried in focus.tags.items()
            if any(t == p or t.startswith(p + "/") for t in carried)
        )
        for p in paths
    }
    holding: dict[str, set[int]] = {}
    for n, albums in focus.albums.items():
        for album in albums:
            holding.setdefault(album.id, set()).add(n)
    for album in lib.albums.values():
        if album.id in holding or album_is_relevant(album, rules, lib.me.id):
            known = frozenset(holding.get(album.id, ()))
            lib.album_members[album.id] = known
            if album.asset_count > len(known):
                lib.album_foreign[album.id] = album.asset_count - len(known)
