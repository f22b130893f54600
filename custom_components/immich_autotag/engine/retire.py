"""Retiring what the integration made in Immich: stale output tags and the clean-up.

Two uses, one mechanism (plan first, dry-runnable, journaled like a run's changes):

- **Migration** after a rules change: an output tag the previous rules wrote and the current
  ones no longer name (e.g. `autotag_output_unknown` renamed) is removed from its assets and
  deleted; the run's phases put the new tag on the right assets, so the assets move over.
- **Clean-up** (`immich_autotag.clean_up`, `--clean-up`): the rules' output tags and the empty
  temporary albums (`*-autotag-temp-unclassified`, owned by the key's user) are deleted.

A tag is untagged from the assets that carry it (ids journaled, so it can be undone), then
deleted; an album is deleted only when it is the user's and holds no asset (re-read first).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from ..immich.client import ImmichClient
from ..immich.errors import ImmichNotFoundError
from .journal import Journal, album_record
from .links import tag_url
from .rules import Rules, is_temp_album


@dataclass(frozen=True, slots=True)
class RetiredTag:
    """A tag to untag from its assets and delete."""

    path: str
    tag_id: str
    asset_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RetiredAlbum:
    """An empty temporary album to delete."""

    album_id: str
    name: str
    record: dict[str, Any]


@dataclass
class RetirePlan:
    """What retiring would change; `counts()` by change kind, `describe()` one line each."""

    tags: list[RetiredTag] = field(default_factory=list)
    albums: list[RetiredAlbum] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to retire."""
        return not self.tags and not self.albums

    def counts(self) -> dict[str, int]:
        """Changes by kind (asset-level for untagging), as `Plan.counts()`."""
        out = {
            "tag_remove": sum(len(t.asset_ids) for t in self.tags),
            "tag_delete": len(self.tags),
            "album_delete": len(self.albums),
        }
        return {k: v for k, v in out.items() if v}

    def describe(self, web_url: str) -> list[dict[str, Any]]:
        """One item per deletion (with the number of assets untagged and a link)."""
        items: list[dict[str, Any]] = [
            {
                "kind": "tag_delete",
                "target": t.path,
                "assets": len(t.asset_ids),
                "url": tag_url(web_url, t.path),
            }
            for t in self.tags
        ]
        items += [
            {"kind": "album_delete", "target": a.name, "url": f"{web_url}/albums/{a.album_id}"}
            for a in self.albums
        ]
        return items


async def plan_tags(client: ImmichClient, paths: Collection[str]) -> list[RetiredTag]:
    """The tags among `paths` that exist, with the assets carrying each (one search per tag)."""
    existing = {tag.value: tag for tag in await client.list_tags() if tag.value in paths}
    retired: list[RetiredTag] = []
    for path in sorted(existing):
        tag_id = existing[path].id
        carriers = await client.search_asset_ids(tag_id=tag_id)
        retired.append(RetiredTag(path, tag_id, tuple(sorted(carriers))))
    return retired


async def plan_clean_up(client: ImmichClient, rules: Rules, me: str) -> RetirePlan:
    """The rules' output tags and the user's empty temporary albums."""
    albums = [
        RetiredAlbum(album.id, album.name, album_record(album))
        for album in await client.list_albums()
        if album.owner_id == me and is_temp_album(album.name) and album.asset_count == 0
    ]
    albums.sort(key=lambda a: a.name)
    return RetirePlan(tags=await plan_tags(client, rules.output_tags()), albums=albums)


async def apply_retire(
    client: ImmichClient, plan: RetirePlan, journal: Journal | None = None
) -> dict[str, int]:
    """Untag and delete the tags, delete the albums still empty; the changes made, by kind."""
    done: dict[str, int] = {}

    def count(kind: str, n: int = 1) -> None:
        done[kind] = done.get(kind, 0) + n

    for tag in plan.tags:
        if tag.asset_ids:
            results = await client.untag_assets(tag.tag_id, tag.asset_ids)
            # not_found counts as removed: a resend after a lost answer finds the tag gone.
            removed = [r.id for r in results if r.success or r.error == "not_found"]
            if journal is not None:
                journal.record("tag_remove", tag.path, removed, tag_id=tag.tag_id)
            count("tag_remove", len(removed))
        try:
            await client.delete_tag(tag.tag_id)
        except ImmichNotFoundError:
            continue  # already gone
        if journal is not None:
            journal.record("tag_delete", tag.path, [], tag_id=tag.tag_id)
        count("tag_delete")
    for album in plan.albums:
        try:
            current = await client.get_album(album.album_id)
        except ImmichNotFoundError:
            continue
        if current.asset_count or current.asset_ids:  # filled since it was planned: kept
            continue
        try:
            await client.delete_album(album.album_id)
        except ImmichNotFoundError:
            continue
        if journal is not None:
            old = album.record
            journal.record("album_delete", album.name, [], album_id=album.album_id, old=old)
        count("album_delete")
    return done
