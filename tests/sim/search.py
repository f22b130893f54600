"""`POST /search/metadata` semantics: flat fields (v2/v3) and the v3.2 `filter` path.

The ordered result list of a query (without its paging fields) is cached per library revision,
so a paged walk over a large library costs one filter+sort, then slices.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import orjson

from .dates import to_ms
from .library import SimLibrary
from .records import SimAsset

PAGING_KEYS = {
    "page",
    "size",
    "cursor",
    "order",
    "orderBy",
    "withExif",
    "withPeople",
    "withStacked",
}
V3_DEFAULT_VISIBILITY = frozenset({"timeline", "archive", "hidden"})


class SearchError(ValueError):
    """A request Immich would refuse with 400."""


def _ms(value: str) -> int:
    return to_ms(datetime.fromisoformat(value))


def encode_cursor(offset: int) -> str:
    """3.2 cursor: base64url of `{"offset":N}`."""
    return base64.urlsafe_b64encode(orjson.dumps({"offset": offset})).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Offset of a 3.2 cursor."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset = orjson.loads(base64.urlsafe_b64decode(padded))["offset"]
    except (ValueError, KeyError, TypeError) as err:
        raise SearchError("Invalid cursor") from err
    if not isinstance(offset, int) or offset < 0:
        raise SearchError("Invalid cursor")
    return offset


class SearchEngine:
    """Runs metadata searches for one simulator."""

    def __init__(self, lib: SimLibrary, version: tuple[int, int, int]) -> None:
        self.lib = lib
        self.version = version
        self._cache: dict[bytes, list[SimAsset]] = {}
        self._cache_revision = -1

    def _tag_assets(self, tag_ids: Iterable[str], me: str) -> list[set[str]]:
        """Per tag id: the assets carrying it or a descendant (closure)."""
        out: list[set[str]] = []
        for tag_id in tag_ids:
            tag = self.lib.tags.get(tag_id)
            if tag is None or tag.owner_id != me:
                out.append(set())
                continue
            members: set[str] = set()
            for tid in self.lib.tag_closure(tag_id):
                members |= self.lib.tags[tid].assets
            out.append(members)
        return out

    def _album_assets(self, album_ids: Iterable[str], me: str) -> list[set[str]]:
        out: list[set[str]] = []
        for album_id in album_ids:
            album = self.lib.albums.get(album_id)
            if album is None or (album.owner_id != me and me not in album.users):
                out.append(set())
            else:
                out.append(set(album.assets))
        return out

    def _in_any_album(self) -> set[str]:
        members: set[str] = set()
        for album in self.lib.albums.values():
            members.update(album.assets)
        return members

    def _tagged(self) -> set[str]:
        members: set[str] = set()
        for tag in self.lib.tags.values():
            members |= tag.assets
        return members

    def search(
        self, me: str, body: dict[str, Any]
    ) -> tuple[list[SimAsset], str | None, str | None]:
        """Return (page items, nextPage, nextCursor)."""
        use_filter, ordered = self._ordered(me, body)
        size = int(body.get("size", 250))
        if use_filter:
            start = decode_cursor(body["cursor"]) if body.get("cursor") else 0
        else:
            start = (int(body.get("page", 1)) - 1) * size
        items = ordered[start : start + size]
        more = start + size < len(ordered)
        next_page = str(start // size + 2) if more else None
        next_cursor = encode_cursor(start + size) if more and use_filter else None
        return items, next_page, next_cursor

    def count(self, me: str, body: dict[str, Any]) -> int:
        """`POST /search/statistics`: how many assets the same search finds."""
        return len(self._ordered(me, body)[1])

    def _ordered(self, me: str, body: dict[str, Any]) -> tuple[bool, list[SimAsset]]:
        """(filter path?, every matching asset in the search's order), cached per revision."""
        if self._cache_revision != self.lib.revision:
            self._cache.clear()
            self._cache_revision = self.lib.revision
        use_filter = self.version >= (3, 2, 0) and any(
            k in body for k in ("filter", "orderBy", "cursor")
        )
        if use_filter:
            flat = [k for k in body if k not in PAGING_KEYS and k != "filter"]
            if flat or "page" in body or "order" in body:
                raise SearchError("Cannot combine filter/orderBy/cursor with legacy search fields")
        key = orjson.dumps(
            {k: v for k, v in body.items() if k not in {"page", "size", "cursor"}} | {"me": me}
        )
        ordered = self._cache.get(key)
        if ordered is None:
            predicate = (
                self._filter_predicate(me, body) if use_filter else self._flat_predicate(me, body)
            )
            ordered = [a for a in self.lib.assets.values() if predicate(a)]
            if use_filter:
                order_by = body.get("orderBy") or {}
                field = order_by.get("field", "fileCreatedAt")
                desc = order_by.get("direction", "desc") == "desc"
            else:
                field, desc = "fileCreatedAt", body.get("order", "desc") == "desc"
            attr = "local_ms" if field == "localDateTime" else "file_created_ms"
            ordered.sort(key=lambda a: (getattr(a, attr), a.id), reverse=desc)
            self._cache[key] = ordered
        return use_filter, ordered

    def _flat_predicate(self, me: str, body: dict[str, Any]) -> Callable[[SimAsset], bool]:
        if "visibility" in body:
            visibilities = frozenset({body["visibility"]}) - {"locked"}
        elif self.version < (3, 0, 0):
            visibilities = frozenset({"timeline"})
        else:
            visibilities = V3_DEFAULT_VISIBILITY
        with_trashed = (
            bool(body.get("withDeleted")) or "trashedAfter" in body or "trashedBefore" in body
        )
        only_trashed = "trashedAfter" in body or "trashedBefore" in body
        restrict: set[str] | None = None
        any_owner = False
        if body.get("albumIds"):
            for members in self._album_assets(body["albumIds"], me):
                restrict = members if restrict is None else restrict & members
            any_owner = self.version >= (3, 1, 0)
        if "tagIds" in body and body["tagIds"] is not None:
            for members in self._tag_assets(body["tagIds"], me):
                restrict = members if restrict is None else restrict & members
        exclude: set[str] = set()
        if "tagIds" in body and body["tagIds"] is None:
            exclude |= self._tagged()
        if body.get("isNotInAlbum"):
            exclude |= self._in_any_album()
        lows = {
            k: _ms(body[k]) for k in ("takenAfter", "updatedAfter", "createdAfter") if k in body
        }
        highs = {
            k: _ms(body[k]) for k in ("takenBefore", "updatedBefore", "createdBefore") if k in body
        }
        wanted_id = body.get("id")
        name_part = str(body.get("originalFileName", "")).lower()
        path_part = str(body.get("originalPath", "")).lower()

        def keep(a: SimAsset) -> bool:  # noqa: PLR0911
            if a.visibility not in visibilities or (a.trashed and not with_trashed):
                return False
            if only_trashed and not a.trashed:
                return False
            if a.owner_id != me and not any_owner:
                return False
            if wanted_id is not None and a.id != wanted_id:
                return False
            if restrict is not None and a.id not in restrict:
                return False
            if a.id in exclude:
                return False
            stamps = {"taken": a.file_created_ms, "updated": a.updated_ms, "created": a.created_ms}
            for k, low in lows.items():
                if stamps[k.removesuffix("After")] < low:
                    return False
            for k_high, high in highs.items():
                if stamps[k_high.removesuffix("Before")] > high:
                    return False
            if name_part and name_part not in a.file_name.lower():
                return False
            return not (path_part and path_part not in a.path.lower())

        return keep

    def _ids_filter(
        self, spec: dict[str, Any], sets_for: Callable[[Iterable[str]], list[set[str]]]
    ) -> Callable[[str], bool]:
        any_sets = sets_for(spec.get("any") or [])
        all_sets = sets_for(spec.get("all") or [])
        none_sets = sets_for(spec.get("none") or [])
        any_union = set().union(*any_sets) if any_sets else None
        none_union = set().union(*none_sets) if none_sets else set()

        def check(asset_id: str) -> bool:
            if any_union is not None and asset_id not in any_union:
                return False
            if any(asset_id not in s for s in all_sets):
                return False
            return asset_id not in none_union

        return check

    def _filter_predicate(self, me: str, body: dict[str, Any]) -> Callable[[SimAsset], bool]:
        flt: dict[str, Any] = body.get("filter") or {}
        checks: list[Callable[[SimAsset], bool]] = []
        vis = flt.get("visibility")
        if vis:
            allowed = {"timeline", "archive", "hidden"}
            if "eq" in vis:
                allowed &= {vis["eq"]}
            if "in" in vis:
                allowed &= set(vis["in"])
            allowed -= {vis.get("ne")} | set(vis.get("notIn") or [])
            checks.append(lambda a: a.visibility in allowed)
        else:
            checks.append(lambda a: a.visibility != "locked")
        trashed = flt.get("trashedAt")
        if trashed is not None and "eq" in trashed and trashed["eq"] is None:
            checks.append(lambda a: not a.trashed)
        elif trashed is not None and "ne" in trashed and trashed["ne"] is None:
            checks.append(lambda a: a.trashed)
        any_owner = False
        if "albumIds" in flt:
            album_check = self._ids_filter(flt["albumIds"], lambda ids: self._album_assets(ids, me))
            checks.append(lambda a: album_check(a.id))
            any_owner = bool(flt["albumIds"].get("any") or flt["albumIds"].get("all"))
        if "tagIds" in flt:
            tag_check = self._ids_filter(flt["tagIds"], lambda ids: self._tag_assets(ids, me))
            checks.append(lambda a: tag_check(a.id))
        if "hasTags" in flt:
            tagged, want = self._tagged(), bool(flt["hasTags"].get("eq"))
            checks.append(lambda a: (a.id in tagged) == want)
        if "hasAlbums" in flt:
            in_album, want_album = self._in_any_album(), bool(flt["hasAlbums"].get("eq"))
            checks.append(lambda a: (a.id in in_album) == want_album)
        ids = flt.get("id")
        if ids:
            wanted = set(ids.get("in") or []) | ({ids["eq"]} if "eq" in ids else set())
            checks.append(lambda a: a.id in wanted)
        for name, attr in (
            ("takenAt", "file_created_ms"),
            ("updatedAt", "updated_ms"),
            ("createdAt", "created_ms"),
        ):
            spec = flt.get(name)
            if spec:
                checks.append(_date_check(spec, attr))
        owner_ok: Callable[[SimAsset], bool] = (
            (lambda _a: True) if any_owner else (lambda a: a.owner_id == me)
        )

        def keep(a: SimAsset) -> bool:
            return owner_ok(a) and all(check(a) for check in checks)

        return keep


def _date_check(spec: dict[str, Any], attr: str) -> Callable[[SimAsset], bool]:
    bounds = {op: _ms(value) for op, value in spec.items() if isinstance(value, str)}
    ops: dict[str, Callable[[int, int], bool]] = {
        "eq": lambda v, b: v == b,
        "ne": lambda v, b: v != b,
        "gt": lambda v, b: v > b,
        "gte": lambda v, b: v >= b,
        "lt": lambda v, b: v < b,
        "lte": lambda v, b: v <= b,
    }

    def check(a: SimAsset) -> bool:
        value: int = getattr(a, attr)
        return all(ops[op](value, bound) for op, bound in bounds.items() if op in ops)

    return check
