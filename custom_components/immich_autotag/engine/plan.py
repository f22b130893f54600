"""Plan: the net diff between the library and the State the phases left, grouped by target.

`make_plan` runs the phases of docs/engine.md in order on one State and turns the overlay into a
`Plan`. Grouping by target lets apply send one request per (tag, chunk), (album, chunk) and
(date value, chunk).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .library import Library
from .phases import (
    album_assignment,
    album_dates,
    album_duplicates,
    album_permissions,
    classification,
    conversions,
    dates,
    duplicate_tags,
    temp_albums,
)
from .rules import Rules
from .state import State

PHASES: tuple[tuple[str, Callable[[State, Rules], None]], ...] = (
    ("album_duplicates", album_duplicates.run),
    ("conversions", conversions.run),
    ("dates", dates.run),
    ("duplicate_tags", duplicate_tags.run),
    ("album_assignment", album_assignment.run),
    ("classification", classification.run),
    ("temp_albums", temp_albums.run),
    ("album_dates", album_dates.run),
    ("album_permissions", album_permissions.run),
)


def format_date(value: Any) -> str:
    """The `dateTimeOriginal` string written for an aware datetime."""
    return str(value.isoformat(timespec="milliseconds"))


def is_rezone(lib: Library, asset: int, value: datetime) -> bool:
    """True when a date change only gives a naive EXIF date its zone.

    Immich stores an EXIF `DateTimeOriginal` without an offset as if it were UTC and leaves
    the time zone empty; a file-name date read in `extraction_timezone` then has the same
    wall clock in another zone. The change moves the instant by the zone's offset.
    """
    if lib.assets.time_zones[asset] or not value.utcoffset():
        return False
    old = lib.assets.instants[asset].astimezone(UTC)
    return value.replace(tzinfo=None, microsecond=0) == old.replace(tzinfo=None, microsecond=0)


def date_key(value: str, time_zone: str | None = None) -> str:
    """A `Plan.date_sets` key: the date to write, and the IANA zone to set with it, if any.

    A run writes dates only (the zone follows the offset); an undo also sets the named zone
    an asset had ("Europe/Madrid"), which an offset alone cannot say. Dates hold no space.
    """
    return f"{value} {time_zone}" if time_zone else value


def split_date_key(key: str) -> tuple[str, str | None]:
    """The date and the IANA zone (or None) of a `Plan.date_sets` key."""
    value, _, zone = key.partition(" ")
    return value, zone or None


@dataclass(frozen=True, slots=True)
class AlbumUserChange:
    """Add, re-role or remove one member of an owned album."""

    album_id: str
    user_id: str
    role: str | None  # None = remove
    kind: str  # album_user_add | album_user_update | album_user_remove


@dataclass
class Plan:
    """Every change of a run, grouped for bulk application. Asset ints index the Library."""

    tag_creates: tuple[str, ...] = ()
    tag_adds: dict[str, frozenset[int]] = field(default_factory=dict)
    tag_removes: dict[str, frozenset[int]] = field(default_factory=dict)
    tag_deletes: tuple[str, ...] = ()
    album_creates: dict[str, frozenset[int]] = field(default_factory=dict)  # name -> assets
    # name -> ((user id, role), ...): members a new album is created with
    album_create_users: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    album_adds: dict[str, frozenset[int]] = field(default_factory=dict)  # album id -> assets
    album_removes: dict[str, frozenset[int]] = field(default_factory=dict)
    album_deletes: tuple[str, ...] = ()
    date_sets: dict[str, frozenset[int]] = field(default_factory=dict)  # date_key -> assets
    date_rezones: frozenset[int] = frozenset()  # of those, naive EXIF dates given a zone
    album_users: tuple[AlbumUserChange, ...] = ()

    @classmethod
    def from_state(cls, state: State, *, release: bool = False) -> Plan:
        """The net diff the overlay represents.

        `release` empties the State's membership changes as they are copied (each set freed
        once its frozen copy exists), so a million assets' changes are not held twice.
        """
        lib = state.lib

        def nonempty(d: dict[str, set[int]]) -> dict[str, frozenset[int]]:
            out = {k: frozenset(v) for k, v in sorted(d.items()) if v}
            if release:
                d.clear()
            return out

        tag_adds = nonempty(state.tag_adds)
        album_adds = nonempty(state.album_adds)
        creates = {
            name: members
            for key, name in sorted(state.new_albums.items(), key=lambda kv: kv[1])
            if (members := album_adds.pop(key, frozenset()))
        }
        create_users = {
            name: tuple(sorted((u, r) for u, r in state.album_users.get(key, {}).items() if r))
            for key, name in state.new_albums.items()
            if name in creates and state.album_users.get(key)
        }
        date_sets: dict[str, set[int]] = {}
        rezones: set[int] = set()
        for asset, value in state.dates.items():
            if value != lib.assets.instants[asset]:
                date_sets.setdefault(format_date(value), set()).add(asset)
                if is_rezone(lib, asset, value):
                    rezones.add(asset)
        users: list[AlbumUserChange] = []
        for album_id, targets in sorted(state.album_users.items()):
            if album_id in state.new_albums:
                continue
            current = {u.user_id: u.role for u in lib.albums[album_id].users}
            for user_id, role in sorted(targets.items()):
                if role is None:
                    kind = "album_user_remove"
                elif user_id in current:
                    kind = "album_user_update"
                else:
                    kind = "album_user_add"
                users.append(AlbumUserChange(album_id, user_id, role, kind))
        return cls(
            tag_creates=tuple(sorted(p for p in tag_adds if p not in lib.tags)),
            tag_adds=tag_adds,
            tag_removes=nonempty(state.tag_removes),
            tag_deletes=tuple(sorted(state.tag_deletes)),
            album_creates=creates,
            album_create_users=dict(sorted(create_users.items())),
            album_adds=album_adds,
            album_removes=nonempty(state.album_removes),
            album_deletes=tuple(sorted(state.album_deletes)),
            date_sets=nonempty(date_sets),
            date_rezones=frozenset(rezones),
            album_users=tuple(users),
        )

    def date_groups(self) -> Iterator[tuple[str, str, frozenset[int]]]:
        """(kind, date_key, assets): the date changes by value, re-zones apart (`date_rezone`)."""
        for value, assets in self.date_sets.items():
            for kind, part in (
                ("date_set", assets - self.date_rezones),
                ("date_rezone", assets & self.date_rezones),
            ):
                if part:
                    yield kind, value, part

    @property
    def is_empty(self) -> bool:
        """True when applying would write nothing."""
        return not any(self.counts().values())

    def counts(self) -> dict[str, int]:
        """Changes by kind (asset-level for memberships and dates)."""
        out = {
            "tag_create": len(self.tag_creates),
            "tag_add": sum(map(len, self.tag_adds.values())),
            "tag_remove": sum(map(len, self.tag_removes.values())),
            "tag_delete": len(self.tag_deletes),
            "album_create": len(self.album_creates),
            "album_add": sum(map(len, self.album_adds.values()))
            + sum(map(len, self.album_creates.values())),
            "album_remove": sum(map(len, self.album_removes.values())),
            "album_delete": len(self.album_deletes),
        }
        for kind, _, assets in self.date_groups():
            out[kind] = out.get(kind, 0) + len(assets)
        for change in self.album_users:
            out[change.kind] = out.get(change.kind, 0) + 1
        if self.album_create_users:
            out["album_user_add"] = out.get("album_user_add", 0) + sum(
                map(len, self.album_create_users.values())
            )
        return {k: v for k, v in out.items() if v}

    def describe(self, lib: Library) -> Iterator[dict[str, Any]]:
        """Every change as a small dict, in `apply.Applier`'s order (for dry-run responses)."""
        for path in self.tag_creates:
            yield {"kind": "tag_create", "target": path}
        for name, assets in self.album_creates.items():
            yield {"kind": "album_create", "target": name}
            yield from _asset_items("album_add", name, assets, lib)
            for user_id, role in self.album_create_users.get(name, ()):
                yield {"kind": "album_user_add", "target": name, "user_id": user_id, "role": role}
        for path, assets in self.tag_adds.items():
            yield from _asset_items("tag_add", path, assets, lib)
        for album_id, assets in self.album_adds.items():
            yield from _asset_items("album_add", lib.albums[album_id].name, assets, lib)
        for path, assets in self.tag_removes.items():
            yield from _asset_items("tag_remove", path, assets, lib)
        for album_id, assets in self.album_removes.items():
            yield from _asset_items("album_remove", lib.albums[album_id].name, assets, lib)
        for path in self.tag_deletes:
            yield {"kind": "tag_delete", "target": path}
        for kind, key, assets in self.date_groups():
            yield from _date_items(kind, key, assets, lib)
        for album_id in self.album_deletes:
            yield {"kind": "album_delete", "target": lib.albums[album_id].name}
        for change in self.album_users:
            yield {
                "kind": change.kind,
                "target": lib.albums[change.album_id].name,
                "user_id": change.user_id,
                "role": change.role,
            }


def _date_items(
    kind: str, key: str, assets: frozenset[int], lib: Library
) -> Iterator[dict[str, Any]]:
    value, zone = split_date_key(key)
    for a in sorted(assets):
        rec = lib.assets[a]
        item = {
            "kind": kind,
            "asset_id": rec.id,
            "file_name": rec.file_name,
            "old": rec.instant.isoformat(),
            "new": value,
        }
        if zone:  # an undo restoring a named zone
            item["time_zone"] = zone
        yield item


def _asset_items(
    kind: str, target: str, assets: frozenset[int], lib: Library
) -> Iterator[dict[str, Any]]:
    for a in sorted(assets):
        rec = lib.assets[a]
        yield {"kind": kind, "target": target, "asset_id": rec.id, "file_name": rec.file_name}


def make_plan(
    library: Library,
    rules: Rules,
    scope: frozenset[int],
    timings: dict[str, float] | None = None,
    *,
    focused: bool = False,
) -> tuple[State, Plan]:
    """Run every phase on a fresh State; return it and the resulting Plan.

    The returned State keeps its results (scope, status, dates, counters, notes); its
    membership changes now live in the Plan only (memory: see `Plan.from_state`).

    `focused`: the scope is the assets a run was asked for (see `State`).
    """
    state = State(library, scope, focused=focused)
    for name, phase in PHASES:
        started = time.perf_counter()
        phase(state, rules)
        if timings is not None:
            timings[name] = round(time.perf_counter() - started, 4)
    state.release_overlay()
    return state, Plan.from_state(state, release=True)
