"""`State`: the library as the plan so far would leave it (an overlay over a `Library`).

Phases read and change a State; they never touch the Library. `plan.Plan.from_state` turns
the overlay into the net diff to apply. Asset changes are allowed only for in-scope assets.
A *focused* State (a run for given asset ids) also limits album-level changes — deleting a
temporary album or a per-group tag, album sharing — to albums and tags of those assets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from .library import Library
from .rules import CREATED_BY, is_temp_album
from .zones import in_zone, parse_zone

NEW_ALBUM_PREFIX = "new:"
_REMOVED = "-"  # marks a removal in an asset's album changes (no album key starts with it)


class Status(StrEnum):
    """Classification status of an asset."""

    CLASSIFIED = "classified"
    UNCLASSIFIED = "unclassified"
    CONFLICT = "conflict"


class ScopeError(ValueError):
    """A phase tried to change an asset outside the run's scope (a bug; never applied)."""


@dataclass(frozen=True, slots=True)
class Note:
    """A warning or error for the report."""

    kind: str
    message: str
    asset_id: str | None = None
    album_id: str | None = None


class State:
    """Overlay of tag, album, date and sharing changes over a Library."""

    def __init__(self, library: Library, scope: Iterable[int], *, focused: bool = False) -> None:
        self.lib = library
        self.scope: frozenset[int] = frozenset(scope)
        self.focused = focused  # scope = the assets asked for: album-level changes follow it
        self._base: dict[int, tuple[str, ...]] | None = None  # asset -> loaded album ids
        # tags
        self._carry_add: dict[str, set[int]] = {}  # path (and ancestors) now carried
        self._removed: dict[str, set[int]] = {}  # path (and descendants) no longer carried
        self.tag_adds: dict[str, set[int]] = {}  # direct adds to apply
        self.tag_removes: dict[str, set[int]] = {}  # direct removals to apply
        self.tag_deletes: set[str] = set()  # tool-owned tag paths to delete
        # albums
        self.new_albums: dict[str, str] = {}  # key -> name, created by this plan
        self.album_adds: dict[str, set[int]] = {}
        self.album_removes: dict[str, set[int]] = {}
        self.album_deletes: set[str] = set()
        # asset -> album keys added ("key") or removed ("-key"), in order: tuples of strings
        # (the keys themselves, no object per change) that the GC does not track
        self._album_delta: dict[int, tuple[str, ...]] = {}
        # dates
        self.dates: dict[int, datetime] = {}
        self._unusable: set[int] = set()  # assets whose unusable date was reported
        # sharing: album key (id, or planned `new:` key) -> user id -> role (None = remove)
        self.album_users: dict[str, dict[str, str | None]] = {}
        # results
        self.status: dict[int, Status] = {}
        self.notes: list[Note] = []
        self.counters: Counter[str] = Counter()

    # --- scope --------------------------------------------------------------------------
    def _check(self, assets: Iterable[int]) -> list[int]:
        out = list(assets)
        outside = [a for a in out if a not in self.scope]
        if outside:
            ids = ", ".join(self.lib.assets[a].id for a in outside[:3])
            raise ScopeError(f"change outside the run's scope: {ids}")
        return out

    def note(
        self, kind: str, message: str, *, asset: int | None = None, album_id: str | None = None
    ) -> None:
        """Record a warning/error for the report."""
        asset_id = self.lib.assets.ids[asset] if asset is not None else None
        self.notes.append(Note(kind, message, asset_id, album_id))

    # --- tags ---------------------------------------------------------------------------
    def has_tag(self, asset: int, path: str) -> bool:
        """True if the asset carries `path` or a descendant (tracked tags only)."""
        if asset in self._carry_add.get(path, ()):
            return True
        if asset in self._removed.get(path, ()):
            return False
        members = self.lib.tag_members.get(path)
        return members is not None and asset in members

    def tagged(self, path: str) -> set[int]:
        """Assets currently carrying `path`."""
        base = set(self.lib.tag_members.get(path, ()))
        base -= self._removed.get(path, set())
        return base | self._carry_add.get(path, set())

    def add_tag(self, path: str, assets: Iterable[int]) -> None:
        """Tag assets with `path` (no-op for assets already carrying it)."""
        for a in self._check(assets):
            if self.has_tag(a, path):
                continue
            if a in self.tag_removes.get(path, ()):  # re-adding what this plan removed
                self.tag_removes[path].discard(a)
                self._removed[path].discard(a)
                continue
            self.tag_adds.setdefault(path, set()).add(a)
            self._removed.get(path, set()).discard(a)
            parts = path.split("/")
            for i in range(1, len(parts) + 1):
                self._carry_add.setdefault("/".join(parts[:i]), set()).add(a)

    def remove_tag(self, path: str, assets: Iterable[int]) -> None:
        """Untag `path` and its tracked descendants from assets that carry it."""
        prefix = path + "/"
        family = [path] + [
            p for p in {*self.lib.tag_members, *self._carry_add} if p.startswith(prefix)
        ]
        for a in self._check(assets):
            if not self.has_tag(a, path):
                continue
            for p in family:
                if not self.has_tag(a, p):
                    continue
                if a in self.tag_adds.get(p, ()):
                    self.tag_adds[p].discard(a)
                elif a in self.lib.tag_members.get(p, ()):
                    self.tag_removes.setdefault(p, set()).add(a)
                self._carry_add.get(p, set()).discard(a)
                self._removed.setdefault(p, set()).add(a)

    def delete_tag(self, path: str) -> None:
        """Delete a tool-owned tag no asset carries any more (focused: if one of them did)."""
        if path not in self.lib.tags:
            return
        if self.focused and not (self.lib.tag_members.get(path, frozenset()) & self.scope):
            return
        self.tag_deletes.add(path)

    def concerns_album(self, key: str) -> bool:
        """True unless focused on assets that were never and are not in the album."""
        if not self.focused or key in self.new_albums:
            return True
        held = self.lib.album_members.get(key, frozenset()) | self.members(key)
        return bool(held & self.scope)

    # --- albums -------------------------------------------------------------------------
    def album_name(self, key: str) -> str:
        """Name of an existing or planned album."""
        if key in self.new_albums:
            return self.new_albums[key]
        return self.lib.albums[key].name

    def is_loaded(self, key: str) -> bool:
        """True when the album's members are known (loaded or created by this plan)."""
        return key in self.new_albums or key in self.lib.album_members

    def find_album(self, name: str) -> str | None:
        """Key of the album of that name the tool writes to: the key user's, oldest first.

        Albums of other users are never picked (docs/engine.md), even when shared with the key's
        user: without one of its own the tool plans its own album (`album_for`).
        """
        new_key = NEW_ALBUM_PREFIX + name
        if new_key in self.new_albums:
            return new_key
        me = self.lib.me.id
        for album in self.lib.albums_named(name):
            if album.owner_id == me and album.id not in self.album_deletes:
                return album.id
        return None

    def album_for(self, name: str) -> str:
        """Key of the key user's album of that name, planning its creation when missing."""
        key = self.find_album(name)
        if key is None:
            key = NEW_ALBUM_PREFIX + name
            self.new_albums[key] = name
        return key

    def release_overlay(self) -> None:
        """Drop the per-asset lookups the phases used (planning is over; see `make_plan`)."""
        self._carry_add, self._removed, self._album_delta, self._base = {}, {}, {}, None

    @property
    def _base_albums(self) -> dict[int, tuple[str, ...]]:
        """`Library.asset_albums`, worked out when first asked (the scope's view may never)."""
        if self._base is None:
            self._base = self.lib.asset_albums()
        return self._base

    def albums_of(self, asset: int) -> set[str]:
        """Keys of the loaded/planned albums the asset is in now."""
        keys = set(self._base_albums.get(asset, ()))
        for change in self._album_delta.get(asset, ()):
            if change.startswith(_REMOVED):
                keys.discard(change[1:])
            else:
                keys.add(change)
        return keys

    def members(self, key: str) -> set[int]:
        """Assets (of the library) in the album now."""
        base = set(self.lib.album_members.get(key, ()))
        return (base - self.album_removes.get(key, set())) | self.album_adds.get(key, set())

    def add_to_album(self, key: str, assets: Iterable[int]) -> None:
        """Put assets in an album (no-op for members)."""
        if not self.is_loaded(key):
            raise KeyError(f"album {key} was not loaded")
        base = self.lib.album_members.get(key, frozenset())
        for a in self._check(assets):
            if a in self.album_removes.get(key, ()):
                self.album_removes[key].discard(a)
            elif a not in base:
                self.album_adds.setdefault(key, set()).add(a)
            else:
                continue
            self._album_delta[a] = (*self._album_delta.get(a, ()), key)

    def remove_from_album(self, key: str, assets: Iterable[int]) -> None:
        """Take assets out of an album (no-op for non-members)."""
        base = self.lib.album_members.get(key, frozenset())
        for a in self._check(assets):
            if a in self.album_adds.get(key, ()):
                self.album_adds[key].discard(a)
            elif a in base:
                self.album_removes.setdefault(key, set()).add(a)
            else:
                continue
            self._album_delta[a] = (*self._album_delta.get(a, ()), _REMOVED + key)

    def is_tool_duplicate(self, key: str) -> bool:
        """An album the tool created (`CREATED_BY`) beside an older own album of its name."""
        album = self.lib.albums.get(key)
        if album is None or album.description != CREATED_BY or album.owner_id != self.lib.me.id:
            return False
        keep = self.find_album(album.name)
        return keep is not None and keep != key and not keep.startswith(NEW_ALBUM_PREFIX)

    def delete_album(self, key: str) -> None:
        """Delete an empty temporary album of the key's user, or a tool duplicate; nothing else.

        A tool duplicate is an album the tool created beside an older own album of its name
        (`is_tool_duplicate`).
        """
        if key in self.new_albums:
            if not self.album_adds.get(key):
                del self.new_albums[key]
            return
        album = self.lib.albums[key]
        if not self.is_loaded(key):
            raise ScopeError(f"refusing to delete album {album.name!r}: members unknown")
        temp = is_temp_album(album.name) and album.owner_id == self.lib.me.id
        if not temp and not self.is_tool_duplicate(key):
            raise ScopeError(f"refusing to delete album {album.name!r}: not a temporary album")
        if self.members(key) or self.lib.album_foreign.get(key, 0) or not self.concerns_album(key):
            return
        self.album_deletes.add(key)

    def set_album_user(self, album_id: str, user_id: str, role: str | None) -> None:
        """Plan a member's role on an owned or planned album (None removes the member).

        Focused: only on albums of the assets asked for (`concerns_album`).
        """
        if not self.concerns_album(album_id):
            return
        if album_id in self.new_albums:  # created with its members (nobody to remove)
            if role is not None:
                self.album_users.setdefault(album_id, {})[user_id] = role
            return
        album = self.lib.albums[album_id]
        if album.owner_id != self.lib.me.id:
            raise ScopeError(f"refusing to change members of {album.name!r}: not owned")
        current = {u.user_id: u.role for u in album.users}
        if current.get(user_id) == role:
            self.album_users.get(album_id, {}).pop(user_id, None)
            return
        self.album_users.setdefault(album_id, {})[user_id] = role

    # --- dates --------------------------------------------------------------------------
    def instant(self, asset: int) -> datetime:
        """Capture instant, corrected by this plan."""
        return self.dates.get(asset) or self.lib.assets.instants[asset]

    def set_date(self, asset: int, value: datetime) -> None:
        """Plan a new capture instant (aware; its offset is the one written)."""
        self._check([asset])
        self.dates[asset] = value

    def local_date(self, asset: int) -> date:
        """Local capture date: the corrected instant in the asset's zone.

        An instant that cannot be shown in its zone (outside years 1-9999 there) is reported
        once as an unusable date and its date as stored is used.
        """
        if asset in self.dates:
            return self.dates[asset].date()
        instant = self.lib.assets.instants[asset]
        zone = parse_zone(self.lib.assets.time_zones[asset])
        if zone is None:
            return instant.date()
        local = in_zone(instant, zone)
        if local is None:
            self.unusable_date(asset, f"cannot be shown in {self.lib.assets.time_zones[asset]}")
            return instant.date()
        return local.date()

    def unusable_date(self, asset: int, why: str) -> None:
        """Report (once per asset) a capture date the run cannot work with."""
        if asset in self._unusable:
            return
        self._unusable.add(asset)
        rec = self.lib.assets[asset]
        self.note(
            "unusable_date",
            f"{rec.path}: capture date {rec.instant.isoformat()} {why}; left unchanged",
            asset=asset,
        )
