"""Album memberships cached between runs (SPEC §7).

An album whose `(updatedAt, assetCount)` pair is unchanged since the last listing is not
listed again: Immich bumps `updatedAt` when assets are added and `assetCount` drops when they
are removed or trashed. HA keeps the cache in its storage; the headless runner in a file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..immich.models import Album

CACHE_VERSION = 1


class AlbumCache:
    """album id -> (updatedAt, assetCount, member ids)."""

    def __init__(self, entries: dict[str, tuple[str, int, list[str]]] | None = None) -> None:
        self._entries: dict[str, tuple[str, int, list[str]]] = dict(entries or {})
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, album: Album) -> list[str] | None:
        """Cached members if the album is unchanged, else None."""
        entry = self._entries.get(album.id)
        if entry is not None and entry[0] == album.updated_at and entry[1] == album.asset_count:
            self.hits += 1
            return entry[2]
        self.misses += 1
        return None

    def put(self, album: Album, members: list[str]) -> None:
        """Remember an album's members as listed now."""
        self._entries[album.id] = (album.updated_at, album.asset_count, members)

    def invalidate(self, album_id: str) -> None:
        """Forget an album (after this run changed its members)."""
        self._entries.pop(album_id, None)

    def retain(self, album_ids: set[str]) -> None:
        """Drop albums that no longer exist."""
        for stale in set(self._entries) - album_ids:
            del self._entries[stale]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "version": CACHE_VERSION,
            "albums": {k: [u, c, m] for k, (u, c, m) in self._entries.items()},
        }

    @classmethod
    def from_dict(cls, data: Any) -> AlbumCache:
        """Rebuild from `to_dict()` output; anything unexpected gives an empty cache."""
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return cls()
        entries: dict[str, tuple[str, int, list[str]]] = {}
        albums = data.get("albums")
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
        return cls(entries)

    @classmethod
    def load_file(cls, path: Path) -> AlbumCache:
        """Read a cache file (missing or corrupt → empty cache)."""
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return cls()

    def save_file(self, path: Path) -> None:
        """Write the cache file atomically."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_dict()), encoding="utf-8")
        tmp.replace(path)
