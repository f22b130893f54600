"""The compact, read-only picture of a library that a run plans against.

`snapshot.py` fills a `Library` from the server; tests build one by hand with `LibraryBuilder`.
Assets are addressed by small ints (their index in `assets`); ids are interned.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from ..immich.models import Album, Asset, Tag, User
from .rules import is_temp_album

SCOPE_VISIBILITIES = frozenset({"timeline", "archive"})


class AssetRecord(NamedTuple):
    """What the engine keeps of an asset (a view; the Library stores the fields in columns)."""

    id: str
    file_name: str
    folder: str  # originalPath without the file name (interned)
    instant: datetime  # Immich capture instant (exif dateTimeOriginal, else fileCreatedAt)
    time_zone: str | None  # exif time zone ("Europe/Madrid", "UTC+2") or None
    duplicate_id: str | None
    owned: bool  # owned by the key's user, not trashed, timeline/archive visibility

    @property
    def path(self) -> str:
        """The original path."""
        return f"{self.folder}/{self.file_name}" if self.folder else self.file_name

    @classmethod
    def from_asset(cls, asset: Asset, me: str) -> AssetRecord:
        """Compact an API asset."""
        path = asset.original_path
        cut = path.rfind("/")
        folder = sys.intern(path[:cut]) if cut > 0 else ""
        zone, duplicate = asset.time_zone, asset.duplicate_id
        return cls(
            id=sys.intern(asset.id),
            file_name=asset.original_file_name or path[cut + 1 :],
            folder=folder,
            instant=asset.capture_instant,
            time_zone=None if zone is None else sys.intern(zone),  # a few zones, shared
            duplicate_id=None if duplicate is None else sys.intern(duplicate),  # per group
            owned=asset.owner_id == me
            and not asset.is_trashed
            and asset.visibility in SCOPE_VISIBILITIES,
        )


class AssetTable:
    """The library's assets stored as columns, one sequence per AssetRecord field.

    A million per-asset objects would all be tracked by CPython's cyclic garbage collector,
    and every full collection would walk them while holding the event loop (measured: 145 ms
    at 100,000 assets). Columns of atomic values cost the collector little, and once the
    library is loaded `freeze` turns them into tuples, which the collector stops tracking:
    a full collection then skips the columns altogether (lists it would walk, reference by
    reference). Reading `table[n]` builds a short-lived AssetRecord.
    """

    __slots__ = ("_columns",)

    def __init__(self) -> None:
        self._columns: list[Sequence[Any]] = [[] for _ in AssetRecord._fields]

    def __len__(self) -> int:
        return len(self._columns[0])

    def __getitem__(self, n: int) -> AssetRecord:
        ids, names, folders, instants, zones, duplicates, owned = self._columns
        return AssetRecord(
            ids[n], names[n], folders[n], instants[n], zones[n], duplicates[n], owned[n]
        )

    def __setitem__(self, n: int, record: AssetRecord) -> None:
        for column, value in zip(self._thawed(), record, strict=True):
            column[n] = value

    def __iter__(self) -> Iterator[AssetRecord]:
        return map(AssetRecord._make, zip(*self._columns, strict=True))

    @property
    def ids(self) -> Sequence[str]:
        """The id column (read it directly on hot paths)."""
        return self._columns[0]

    @property
    def file_names(self) -> Sequence[str]:
        """The file-name column."""
        return self._columns[1]

    @property
    def folders(self) -> Sequence[str]:
        """The folder column (originalPath without the file name)."""
        return self._columns[2]

    @property
    def instants(self) -> Sequence[datetime]:
        """The capture-instant column."""
        return self._columns[3]

    @property
    def time_zones(self) -> Sequence[str | None]:
        """The exif time-zone column."""
        return self._columns[4]

    @property
    def owned(self) -> Sequence[bool]:
        """The owned column (the key user's, not trashed, timeline or archive)."""
        return self._columns[6]

    @property
    def duplicate_ids(self) -> Sequence[str | None]:
        """The duplicate-id column."""
        return self._columns[5]

    def append(self, record: AssetRecord) -> None:
        """Add an asset at the end."""
        for column, value in zip(self._thawed(), record, strict=True):
            column.append(value)

    def freeze(self) -> None:
        """Store the columns as tuples (one at a time: a column is copied, its list freed)."""
        for i, column in enumerate(self._columns):
            self._columns[i] = tuple(column)

    def _thawed(self) -> list[list[Any]]:
        """The columns as lists again (a change after `freeze`: tests replaying a run)."""
        columns = self._columns
        for i, column in enumerate(columns):
            if type(column) is not list:
                columns[i] = list(column)
        return columns  # type: ignore[return-value]


@dataclass
class Library:
    """Everything a plan needs, loaded once per run."""

    me: User
    assets: AssetTable = field(default_factory=AssetTable)
    index: dict[str, int] = field(default_factory=dict)
    tags: dict[str, Tag] = field(default_factory=dict)  # by full path (value)
    # Tracked tags only: path -> assets carrying it (the tag or a descendant).
    tag_members: dict[str, frozenset[int]] = field(default_factory=dict)
    albums: dict[str, Album] = field(default_factory=dict)  # every visible album, by id
    # Loaded albums only: id -> member assets that are in `assets`.
    album_members: dict[str, frozenset[int]] = field(default_factory=dict)
    # Loaded albums: members not in `assets` (other users' assets in shared albums).
    album_foreign: dict[str, int] = field(default_factory=dict)
    users: list[User] = field(default_factory=list)
    duplicate_groups: dict[str, tuple[int, ...]] = field(default_factory=dict)
    newest_update: str = ""  # the latest asset `updatedAt` read (server clock, ISO text)
    _by_name: dict[str, list[Album]] | None = field(default=None, init=False, repr=False)

    def add_asset(self, record: AssetRecord) -> int:
        """Append an asset (ignoring a repeated id) and return its int."""
        known = self.index.get(record.id)
        if known is not None:
            return known
        self.index[record.id] = n = len(self.assets)
        self.assets.append(record)
        return n

    def finish(self) -> None:
        """Derive duplicate groups from the assets' duplicate ids; reset name lookups.

        The asset columns become tuples (`AssetTable.freeze`).
        """
        self._by_name = None
        self.assets.freeze()
        groups: dict[str, list[int]] = {}
        for n, duplicate_id in enumerate(self.assets.duplicate_ids):
            if duplicate_id:
                groups.setdefault(duplicate_id, []).append(n)
        self.duplicate_groups = {k: tuple(v) for k, v in groups.items() if len(v) > 1}

    def asset_albums(self) -> dict[int, tuple[str, ...]]:
        """Inverse of `album_members`: asset -> loaded album ids.

        Tuples of strings, which CPython's garbage collector stops tracking (sets would be
        tracked: one object per asset for every full collection to walk).
        """
        inverse: dict[int, list[str]] = {}
        for album_id, members in self.album_members.items():
            for a in members:
                inverse.setdefault(a, []).append(album_id)
        return {a: tuple(ids) for a, ids in inverse.items()}

    def albums_named(self, name: str) -> list[Album]:
        """Albums of that name, the key user's first, then oldest first (docs/engine.md)."""
        if self._by_name is None:
            index: dict[str, list[Album]] = {}
            for album in self.albums.values():
                index.setdefault(album.name, []).append(album)
            for same in index.values():
                same.sort(key=lambda a: (a.owner_id != self.me.id, a.created_at, a.id))
            self._by_name = index
        return list(self._by_name.get(name, ()))

    def temp_albums(self) -> list[Album]:
        """Temporary albums owned by the key's user."""
        return [
            a for a in self.albums.values() if is_temp_album(a.name) and a.owner_id == self.me.id
        ]
