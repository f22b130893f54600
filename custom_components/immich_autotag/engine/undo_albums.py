"""The album changes of an undo: members, albums the run created or deleted, sharing."""

from __future__ import annotations

from typing import Any

from ..immich.models import Album
from .journal import Line
from .plan import AlbumUserChange
from .undo_checks import UndoBook, album_by_id, created_album, role_change


class AlbumUndo(UndoBook):
    """Decides a run's album change lines against the library (`undo_plan.py` runs the pass)."""

    def album_deleted(self, line: Line) -> None:
        """An album the run deleted: to create again with its users, unless made again since."""
        old: dict[str, Any] = line.get("old") or {}
        name = old.get("name")
        if not isinstance(name, str):
            self.skip(line, "the journal does not say what the album was")
            return
        existing = [a for a in self.lib.albums_named(name) if a.owner_id == self.lib.me.id]
        if existing:  # made again since: the members go back into it
            self.recreated[line["album_id"]] = existing[0].id
            self.unchanged += 1
            return
        self.recreated[line["album_id"]] = name
        self.album_creates.setdefault(name, set())
        users = []
        known = {u.id for u in self.lib.users}
        for user in old.get("users") or ():
            if user.get("user_id") in known and user.get("role") in ("editor", "viewer"):
                users.append((user["user_id"], user["role"]))
            else:
                self.skip(line, "the user no longer exists", user.get("user_id"))
        if users:
            self.album_create_users[name] = users

    def created_album_members(self, line: Line) -> None:
        """A created album: take the run's assets out; delete it if then nothing is left."""
        album = created_album(line, self.lib.albums, self.run)
        if album is None:
            if line.get("new") is None:
                self.skip(line, "the album's id never arrived and no album fits")
            else:
                self.unchanged += 1
            return
        self.drop_assets(line, album.id)
        why = self.album_in_use(line, album)
        if why:
            self.skip(line, f"album {album.name} kept: {why}")
        else:
            self.album_deletes.add(album.id)
            self.dropped.add(album.id)

    def album_in_use(self, line: Line, album: Album) -> str | None:
        """Why an album the run created is still in use after the undo (None: it is not)."""
        lib = self.lib
        members = lib.album_members.get(album.id, frozenset())
        others = len(members - self.album_removes.get(album.id, set()))
        others += lib.album_foreign.get(album.id, 0)
        if others:
            return f"it holds {others} assets the run did not add"
        if album.name != line.get("target"):
            return "it was renamed"
        shared = {
            e["ids"][0]
            for e in self.run.changes
            if e.get("kind") == "album_user_add" and e.get("album_id") == album.id and e.get("ids")
        }
        if any(u.user_id not in shared for u in album.users):
            return "it was shared with more users"
        return None

    def drop_assets(self, line: Line, album_id: str) -> None:
        """Take the line's assets that the album still holds out of it."""
        members = self.lib.album_members.get(album_id, frozenset())
        for asset_id in self.ids(line):
            a = self.lib.index.get(asset_id)
            if a is None or a not in members:
                self.unchanged += 1
            else:
                self.album_removes.setdefault(album_id, set()).add(a)

    def album_added(self, line: Line) -> None:
        """Assets the run added to an album: taken out again while the album exists."""
        album_id = line.get("album_id")
        if album_by_id(self.lib, album_id) is None:  # deleted since: the members went with it
            self.unchanged += len(self.ids(line))
            return
        self.drop_assets(line, str(album_id))

    def album_removed(self, line: Line) -> None:
        """Assets the run removed from an album: put back (into it, or into its re-creation)."""
        album_id = str(line.get("album_id"))
        target = self.recreated.get(album_id, album_id)
        if target in self.album_creates:  # deleted by the run: created again with them
            for asset_id in self.ids(line):
                a = self.asset(line, asset_id)
                if a is not None:
                    self.album_creates[target].add(a)
            return
        if album_by_id(self.lib, target) is None:
            self.skip(line, f"the album {line.get('target')} was deleted after the run")
            return
        members = self.lib.album_members.get(target, frozenset())
        for asset_id in self.ids(line):
            a = self.asset(line, asset_id)
            if a is None:
                continue
            if a in members:
                self.unchanged += 1
            else:
                self.album_adds.setdefault(target, set()).add(a)

    def album_user(self, line: Line) -> None:
        """A member the run added, re-roled or removed: the role before the run restored."""
        album_id = line.get("album_id")
        if album_id in self.dropped or album_id in self.recreated:
            return  # deleted by this undo, or created again with its members
        album = album_by_id(self.lib, album_id)
        if album is None:
            self.skip(line, f"the album {line.get('target')} was deleted after the run")
            return
        outcome = role_change(self.lib, album, line)
        if isinstance(outcome, AlbumUserChange):
            self.album_users.append(outcome)
        elif outcome is None:
            self.unchanged += 1
        else:
            self.skip(line, outcome.reason, (line.get("ids") or [None])[0])
