"""What a run remembers between runs (docs/engine.md#reads), per server, user and API family.

- Album memberships: an album whose `(updatedAt, assetCount)` pair is unchanged since the last
  listing is not listed again (Immich bumps `updatedAt` when assets are added; `assetCount`
  drops when they are removed or trashed).
- The asset walk's marks (`immich.search.Marks`): how many assets it walked, so the next walk
  (v3.0/3.1) fetches every page at once without counting first, and (v3.2) where it can be
  split into concurrent ranges of one page each.
- How many assets each tag search found, so the next one (v3.0/3.1) fetches every page at
  once instead of page 1, a count, then the rest. A size is only a hint: a search that grew
  is finished from its last page, one that shrank stops at its last page (the pages already
  sent after it, at most a window of 32, cost an empty answer each).

HA keeps it in its storage; the headless runner in a file. A listing is what one user sees
(Immich v3.0 lists only the caller's own assets of a shared album), so everything is kept per
*scope* — server URL, user id and API family — and a run reads and writes only the scope it is
bound to (`bind`, called by the snapshot once the user is known). An unbound cache answers
every lookup with a miss.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from ..immich.models import Album, ApiMode
from ..immich.search import Mark, Marks

CACHE_VERSION = 2  # 1 had no scopes: its entries may be another user's view, so it is dropped
MAX_SCOPES = 8  # the most recently used scopes a file or store keeps

Entry: TypeAlias = tuple[str, int, list[str]]  # (updatedAt, assetCount, member ids)


def cache_scope(api_url: str, user_id: str, mode: ApiMode) -> str:
    """The partition a run may use: the server, the key's user and the API family."""
    return f"{api_url}|{user_id}|{mode.value}"


@dataclass
class _Scope:
    albums: dict[str, Entry] = field(default_factory=dict)
    marks: list[Mark] = field(default_factory=list)
    walked: int = 0  # assets in the walk the marks come from
    tag_sizes: dict[str, int] = field(default_factory=dict)  # tag id -> assets last found

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"albums": {k: [u, c, m] for k, (u, c, m) in self.albums.items()}}
        if self.marks or self.walked:
            data["marks"] = [list(mark) for mark in self.marks]
            data["walked"] = self.walked
        if self.tag_sizes:
            data["tagSizes"] = dict(self.tag_sizes)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Scope:
        marks = data.get("marks")
        walked = data.get("walked")
        good = (
            isinstance(marks, list)
            and isinstance(walked, int)
            and all(
                isinstance(m, list) and len(m) == 2 and isinstance(m[0], str) and type(m[1]) is int  # noqa: PLR2004
                for m in marks
            )
        )
        sizes = data.get("tagSizes")
        return cls(
            albums=_entries(data.get("albums")),
            marks=[(m[0], m[1]) for m in marks] if good and isinstance(marks, list) else [],
            walked=walked if good and isinstance(walked, int) and walked >= 0 else 0,
            tag_sizes={
                str(k): v
                for k, v in (sizes.items() if isinstance(sizes, dict) else ())
                if type(v) is int and v >= 0
            },
        )


class AlbumCache:
    """album id -> (updatedAt, assetCount, member ids), and the walk marks, per scope."""

    def __init__(self, scopes: dict[str, _Scope] | None = None) -> None:
        self._scopes: dict[str, _Scope] = dict(scopes or {})
        self._scope: str | None = None
        self._bound = _Scope()  # the bound scope's record (a throwaway until bound)
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return sum(len(part.albums) for part in self._scopes.values())

    @property
    def scope(self) -> str | None:
        """The scope this cache is bound to, if any."""
        return self._scope

    def bind(self, scope: str) -> None:
        """Use (and from now on write) the records of `scope` only."""
        part = self._scopes.pop(scope, None) or _Scope()
        self._scopes[scope] = part  # most recently used last
        while len(self._scopes) > MAX_SCOPES:
            del self._scopes[next(iter(self._scopes))]
        self._scope, self._bound = scope, part

    def get(self, album: Album) -> list[str] | None:
        """Cached members if the album is unchanged, else None."""
        entry = self._bound.albums.get(album.id) if self._scope is not None else None
        if entry is not None and entry[0] == album.updated_at and entry[1] == album.asset_count:
            self.hits += 1
            return entry[2]
        self.misses += 1
        return None

    def put(self, album: Album, members: list[str]) -> None:
        """Remember an album's members as listed now (by the bound scope's user)."""
        self._bound.albums[album.id] = (album.updated_at, album.asset_count, members)

    def invalidate(self, album_id: str) -> None:
        """Forget an album (after this run changed its members)."""
        self._bound.albums.pop(album_id, None)

    def retain(self, album_ids: set[str]) -> None:
        """Drop albums that no longer exist."""
        albums = self._bound.albums
        for stale in set(albums) - album_ids:
            del albums[stale]

    def marks(self) -> Marks:
        """The marks of the bound scope's last full asset walk (a new walk records its own)."""
        part = self._bound if self._scope is not None else _Scope()
        return Marks(part.marks, part.walked)

    def keep_marks(self, marks: Marks) -> None:
        """Remember the marks a complete walk recorded."""
        self._bound.marks = list(marks.recorded)
        self._bound.walked = marks.recorded_total

    def tag_size(self, tag_id: str) -> int | None:
        """How many assets the bound scope's last search of this tag found (a hint)."""
        return self._bound.tag_sizes.get(tag_id) if self._scope is not None else None

    def expect_tag_size(self, tag_id: str, size: int) -> None:
        """The next search of this tag should find `size` assets (after this run's writes)."""
        self._bound.tag_sizes[tag_id] = size

    def keep_tag_sizes(self, sizes: dict[str, int]) -> None:
        """Remember what this run's tag searches found (tags it did not search are dropped)."""
        self._bound.tag_sizes = dict(sizes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, safe to serialise in another thread while runs go on.

        Its dicts and lists are new; the member lists are shared, and no code changes one in
        place (`put` replaces an album's entry).
        """
        return {
            "version": CACHE_VERSION,
            "scopes": {scope: part.to_dict() for scope, part in self._scopes.items()},
        }

    @classmethod
    def from_dict(cls, data: Any) -> AlbumCache:
        """Rebuild from `to_dict()` output; anything unexpected gives an empty cache."""
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return cls()
        scopes = data.get("scopes")
        if not isinstance(scopes, dict):
            return cls()
        return cls(
            {
                str(scope): _Scope.from_dict(part)
                for scope, part in scopes.items()
                if isinstance(part, dict)
            }
        )

    @classmethod
    def load_file(cls, path: Path) -> AlbumCache:
        """Read a cache file (missing or corrupt → empty cache)."""
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return cls()

    def save_file(self, path: Path) -> None:
        """Write the bound scope into the file atomically, keeping the file's other scopes.

        Another process (a second user's cron job) may have saved its own scope since this
        cache was loaded; only this run's scope is replaced.
        """
        data = self.to_dict()
        if self._scope is not None:
            try:
                stored = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                stored = None
            if isinstance(stored, dict) and stored.get("version") == CACHE_VERSION:
                others = stored.get("scopes")
                scopes = {
                    k: v
                    for k, v in (others.items() if isinstance(others, dict) else ())
                    if k != self._scope and isinstance(v, dict)
                }
                scopes[self._scope] = data["scopes"][self._scope]
                data["scopes"] = dict(list(scopes.items())[-MAX_SCOPES:])
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(path)


def _entries(albums: Any) -> dict[str, Entry]:
    """Valid `[updatedAt, assetCount, members]` entries of a stored scope."""
    entries: dict[str, Entry] = {}
    if isinstance(albums, dict):
        for key, value in albums.items():
            if (
                isinstance(value, list)
                and len(value) == 3  # noqa: PLR2004
                and isinstance(value[0], str)
                and isinstance(value[1], int)
                and isinstance(value[2], list)
            ):
                members = [sys.intern(str(m)) for m in value[2]]
                entries[str(key)] = (value[0], value[1], members)
    return entries
