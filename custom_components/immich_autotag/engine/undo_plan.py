"""The plan that reverts one journaled run, decided against the library as it is now.

Pure: a `Library` read right before (`undo.py`) and the run's journal lines in, an `UndoPlan`
out — a `Plan` the ordinary apply step executes, the changes skipped and the reasons, and how
many changes are already as they were before the run. The rule for every change: revert it
only while its current value is the one the run set. A value that equals the old one needs
nothing; any other value is a later edit, which wins (the change is skipped and listed).

`tag_add` lines list the assets that lacked the tag (and every tag below it) in the run's
snapshot, so removing the tag from those that carry it now restores the state before the run.
What the run created (tags, albums) is deleted only when, after the undo, nothing else uses it.
The tag and date lines are decided here, the album and sharing lines in `undo_albums.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..immich.models import Album, Tag
from .journal import Line
from .journal_read import JournalRun
from .library import Library
from .plan import Plan
from .undo_albums import AlbumUndo
from .undo_checks import Skip, Skipped, created_album, date_restore


def undo_selection(
    run: JournalRun, tags: dict[str, Tag], albums: dict[str, Album]
) -> tuple[set[str], set[str]]:
    """The tags (paths) and albums (ids) whose members undoing `run` needs to read."""
    by_id = {t.id: p for p, t in tags.items()}
    paths: set[str] = set()
    album_ids: set[str] = set()
    for line in run.changes:
        kind = str(line.get("kind"))
        if kind.startswith("tag_"):
            for tag_id in (line.get("tag_id"), line.get("new")):
                if isinstance(tag_id, str) and tag_id in by_id:
                    paths.add(by_id[tag_id])
            if isinstance(line.get("target"), str):
                paths.add(line["target"])
            paths.update(p for p in line.get("created") or () if isinstance(p, str))
        elif kind.startswith("album_"):
            for album_id in (line.get("album_id"), line.get("new")):
                if isinstance(album_id, str) and album_id in albums:
                    album_ids.add(album_id)
            found = created_album(line, albums, run) if kind == "album_create" else None
            if found is not None:
                album_ids.add(found.id)
            if kind == "album_delete":  # made again since? the members go back into it
                name = (line.get("old") or {}).get("name")
                album_ids.update(
                    a.id for a in albums.values() if a.name == name and a.owner_id == run.user_id
                )
    return {p for p in paths if p in tags}, album_ids


@dataclass
class UndoPlan:
    """What undoing a run does now: the plan, the skipped changes, those already reverted."""

    plan: Plan
    skipped: list[Skip] = field(default_factory=list)
    unchanged: int = 0  # changes whose value is already the one before the run


class _Planner(AlbumUndo):
    """Walks a run's change lines, newest first, deciding each against the library."""

    # --- the pass -----------------------------------------------------------------------
    def plan(self) -> UndoPlan:
        for line in reversed(self.run.changes):  # deletions first: they say what to recreate
            kind = line.get("kind")
            if kind == "album_delete" and isinstance(line.get("album_id"), str):
                self.album_deleted(line)
            elif kind == "tag_delete" and isinstance(line.get("tag_id"), str):
                self.deleted_tags[line["tag_id"]] = str(line.get("target") or "")
        for line in self.run.changes:
            if line.get("kind") == "album_create":
                self.created_album_members(line)
        handlers = {
            "tag_add": self.tag_added,
            "tag_remove": self.tag_removed,
            "tag_delete": self.tag_deleted,
            "album_add": self.album_added,
            "album_remove": self.album_removed,
            "date_set": self.date_set,
            "album_user_add": self.album_user,
            "album_user_update": self.album_user,
            "album_user_remove": self.album_user,
        }
        for line in reversed(self.run.changes):
            kind = str(line.get("kind"))
            if kind == "tag_create":
                self.created.append(line)
            elif kind in handlers:
                handlers[kind](line)
        for line in self.created:
            self.tag_created(line)
        return UndoPlan(self.to_plan(), self.skipped, self.unchanged)

    # --- tags ---------------------------------------------------------------------------
    def tag_added(self, line: Line) -> None:
        path = self.tag_by_id(line.get("tag_id"))
        ids = self.ids(line)
        if path is None:  # the tag was deleted since: its links went with it
            self.unchanged += len(ids)
            return
        carriers = self.lib.tag_members.get(path, frozenset())
        for asset_id in ids:
            a = self.asset(line, asset_id)
            if a is None:
                continue
            if a in carriers:
                self.tag_removes.setdefault(path, set()).add(a)
            else:
                self.unchanged += 1

    def tag_removed(self, line: Line) -> None:
        path = self.restorable_tag(line)
        if path is None:
            return
        carriers = self.lib.tag_members.get(path, frozenset())
        for asset_id in self.ids(line):
            a = self.asset(line, asset_id)
            if a is None:
                continue
            if a in carriers:
                self.unchanged += 1
            else:
                self.tag_adds.setdefault(path, set()).add(a)

    def restorable_tag(self, line: Line) -> str | None:
        """The path to re-tag with: the tag now, or one to create again if this run deleted it."""
        tag_id = line.get("tag_id")
        path = self.tag_by_id(tag_id)
        if path is not None:
            return path
        target = str(line.get("target") or "")
        if target in self.lib.tags:
            return target
        if tag_id in self.deleted_tags and target:
            self.tag_creates.add(target)
            return target
        self.skip(line, f"the tag {target} was deleted after the run")
        return None

    def tag_deleted(self, line: Line) -> None:
        target = str(line.get("target") or "")
        if not target or target in self.lib.tags:
            self.unchanged += 1
        else:
            self.tag_creates.add(target)

    def tag_created(self, line: Line) -> None:
        """Delete what the run created when, after this undo, nothing else uses it."""
        lib = self.lib
        leaf = self.tag_by_id(line.get("new")) or str(line.get("target") or "")
        created = [p for p in line.get("created") or [leaf] if isinstance(p, str)]
        if leaf not in lib.tags:
            self.unchanged += 1
            return
        deletable: set[str] = set()
        for path in sorted(created, key=len, reverse=True):  # deepest first
            if path not in lib.tags:
                continue
            family = [p for p in lib.tags if p == path or p.startswith(path + "/")]
            untagged = set().union(*(self.tag_removes.get(p, set()) for p in family))
            users = lib.tag_members.get(path, frozenset()) - untagged
            others = [p for p in family if p != path and p not in deletable]
            if users or others:
                if path == leaf:
                    why = f"{len(users)} assets carry it" if users else f"it holds {others[0]}"
                    self.skip(line, f"tag {path} kept: {why} (not from this run)")
                break
            deletable.add(path)
        # Deleting a tag deletes the tags below it: only the topmost of each branch.
        self.tag_deletes.update(
            p for p in deletable if not any(p.startswith(q + "/") for q in deletable)
        )

    # --- dates --------------------------------------------------------------------------
    def date_set(self, line: Line) -> None:
        old: dict[str, Any] = line.get("old") or {}
        try:
            new = datetime.fromisoformat(str(line.get("new")))
        except ValueError:
            self.skip(line, "the journal's new date is unreadable")
            return
        for asset_id in self.ids(line):
            a = self.asset(line, asset_id)
            if a is None:
                continue
            decided = date_restore(self.lib, a, new, old.get(asset_id))
            if decided is None:
                self.unchanged += 1
            elif isinstance(decided, Skipped):
                self.skip(line, decided.reason, asset_id)
            else:
                self.date_sets.setdefault(decided, set()).add(a)

    # --- the result ---------------------------------------------------------------------
    def to_plan(self) -> Plan:
        def frozen(groups: dict[str, set[int]]) -> dict[str, frozenset[int]]:
            return {k: frozenset(v) for k, v in sorted(groups.items()) if v}

        return Plan(
            tag_creates=tuple(sorted(self.tag_creates)),
            tag_adds=frozen(self.tag_adds),
            tag_removes=frozen(self.tag_removes),
            tag_deletes=tuple(sorted(self.tag_deletes)),
            album_creates={k: frozenset(v) for k, v in sorted(self.album_creates.items())},
            album_create_users={
                k: tuple(sorted(v)) for k, v in sorted(self.album_create_users.items())
            },
            album_adds=frozen(self.album_adds),
            album_removes=frozen(self.album_removes),
            album_deletes=tuple(sorted(self.album_deletes)),
            date_sets=frozen(self.date_sets),
            album_users=tuple(self.album_users),
        )


def plan_undo(lib: Library, run: JournalRun) -> UndoPlan:
    """The plan that reverts `run` on `lib` (see the module docstring)."""
    return _Planner(lib, run).plan()
