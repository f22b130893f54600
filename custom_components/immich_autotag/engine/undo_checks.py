"""The per-change decisions of an undo: is the current value still the one the run set.

Each check answers with what to do (a date key to write, an album member change), `None` when
the value is already the one before the run, or `Skipped` when a later edit changed it.
`UndoBook` is what the planner collects while it decides (`undo_albums.py`, `undo_plan.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..immich.models import Album
from .journal import Line
from .journal_read import JournalRun
from .library import Library
from .plan import AlbumUserChange, date_key, format_date
from .zones import in_zone, parse_zone

# An album created by an uncertain request was created after the run started (server and
# journal clocks may differ by this much).
CLOCK_SLACK = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A change an undo leaves alone, and why."""

    reason: str


@dataclass(frozen=True, slots=True)
class Skip:
    """One skipped change of the undone run (for the report and the command's listing)."""

    seq: int | None
    kind: str
    target: str | None
    item: str | None  # the asset or user, when the line names several
    reason: str

    @classmethod
    def of(cls, line: Line, reason: str, item: str | None = None) -> Skip:
        """The skip of (one item of) a journal line."""
        seq = line.get("seq")
        target = line.get("target")
        return cls(
            seq if isinstance(seq, int) else None,
            str(line.get("kind")),
            target if isinstance(target, str) else None,
            item,
            reason,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "target": self.target,
            "id": self.item,
            "reason": self.reason,
        }


def album_by_id(lib: Library, album_id: object) -> Album | None:
    """The album with that id, if it still exists."""
    return lib.albums.get(album_id) if isinstance(album_id, str) else None


def _parse(value: object) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def created_album(line: Line, albums: dict[str, Album], run: JournalRun) -> Album | None:
    """The album an `album_create` line made, by its id.

    For an uncertain line (no id): the only album of that name the run's user created since
    the run started.
    """
    new = line.get("new")
    if isinstance(new, str):
        return albums.get(new)
    started = _parse(run.header.get("started_at"))
    if started is None:
        return None
    fits = [
        a
        for a in albums.values()
        if a.name == line.get("target")
        and a.owner_id == run.user_id
        and (created := _parse(a.created_at)) is not None
        and created >= started - CLOCK_SLACK
    ]
    return fits[0] if len(fits) == 1 else None


def _offset(zone_label: str | None, at: datetime) -> timedelta | None:
    zone = parse_zone(zone_label)
    if zone is None:
        return None
    local = in_zone(at, zone)
    return None if local is None else local.utcoffset()


def _same_date(
    lib: Library, a: int, instant: datetime, zone_label: str | None, offset: timedelta | None
) -> bool:
    """True when the asset shows `instant`, in `zone_label` or (labels differ) that offset."""
    if lib.assets.instants[a] != instant:
        return False
    have = lib.assets.time_zones[a]
    if have == zone_label:
        return True
    have_offset = _offset(have, instant)
    return have_offset is None or offset is None or have_offset == offset


def date_restore(lib: Library, a: int, new: datetime, old: object) -> str | Skipped | None:
    """The date key that restores an asset's old date and zone (see the module docstring)."""
    if not isinstance(old, dict) or (old_date := _parse(old.get("date"))) is None:
        return Skipped("the journal holds no old date for it")
    zone_name = old.get("time_zone") if isinstance(old.get("time_zone"), str) else None
    if _same_date(lib, a, old_date, zone_name, _offset(zone_name, old_date)):
        return None
    if not _same_date(lib, a, new, None, new.utcoffset()):
        return Skipped("its date was changed after the run")
    zone = parse_zone(zone_name)
    local = (in_zone(old_date, zone) if zone is not None else None) or old_date
    # A named zone is sent by name (an offset cannot say "Europe/Madrid"); "UTC+2" is the offset.
    named = zone_name if isinstance(zone, ZoneInfo) else None
    return date_key(format_date(local), named)


def role_change(  # noqa: PLR0911 - one answer per case of the member's role
    lib: Library, album: Album, line: Line
) -> AlbumUserChange | Skipped | None:
    """The member change that restores a user's role in `album` before the run."""
    ids = line.get("ids") or []
    user = ids[0] if ids and isinstance(ids[0], str) else None
    if user is None:
        return Skipped("the journal does not name the user")
    if album.owner_id != lib.me.id:
        return Skipped("the album is no longer yours")
    role, old_role = line.get("role"), line.get("old_role")
    current = next((u.role for u in album.users if u.user_id == user), None)
    if current == old_role:
        return None
    if current != role:
        now = current or "no longer a member"
        return Skipped(f"the user's role was changed after the run (now {now})")
    if old_role is None:
        return AlbumUserChange(album.id, user, None, "album_user_remove")
    if role is None:
        if not any(u.id == user for u in lib.users):
            return Skipped("the user no longer exists")
        return AlbumUserChange(album.id, user, str(old_role), "album_user_add")
    return AlbumUserChange(album.id, user, str(old_role), "album_user_update")


class UndoBook:
    """What an undo's planner collects, and the lookups every change line needs."""

    def __init__(self, lib: Library, run: JournalRun) -> None:
        self.lib = lib
        self.run = run
        self.skipped: list[Skip] = []
        self.unchanged = 0
        self.tag_creates: set[str] = set()
        self.tag_adds: dict[str, set[int]] = {}
        self.tag_removes: dict[str, set[int]] = {}
        self.tag_deletes: set[str] = set()
        self.album_creates: dict[str, set[int]] = {}  # name -> assets (albums the run deleted)
        self.album_create_users: dict[str, list[tuple[str, str]]] = {}
        self.album_adds: dict[str, set[int]] = {}
        self.album_removes: dict[str, set[int]] = {}
        self.album_deletes: set[str] = set()
        self.date_sets: dict[str, set[int]] = {}
        self.album_users: list[AlbumUserChange] = []
        self.recreated: dict[str, str] = {}  # album id the run deleted -> name to create
        self.deleted_tags: dict[str, str] = {}  # tag id the run deleted -> its path
        self.created: list[Line] = []  # tag_create and album_create lines, decided last
        self.dropped: set[str] = set()  # albums this undo deletes: their members need nothing
        self.tag_paths = {t.id: p for p, t in lib.tags.items()}

    def tag_by_id(self, tag_id: object) -> str | None:
        """The current path of the tag with that id, if it still exists."""
        return self.tag_paths.get(tag_id) if isinstance(tag_id, str) else None

    def skip(self, line: Line, reason: str, item: str | None = None) -> None:
        """Record (one item of) a line this undo leaves alone, and why."""
        self.skipped.append(Skip.of(line, reason, item))

    def asset(self, line: Line, asset_id: str) -> int | None:
        """The asset's int when it is still one of the user's visible assets."""
        a = self.lib.index.get(asset_id)
        if a is None or not self.lib.assets[a].owned:
            self.skip(line, "the asset is no longer in the library (trashed or deleted)", asset_id)
            return None
        return a

    def ids(self, line: Line) -> list[str]:
        """The asset (or user) ids a line names."""
        return [i for i in line.get("ids") or () if isinstance(i, str)]
