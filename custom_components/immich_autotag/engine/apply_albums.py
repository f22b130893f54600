"""The album jobs of the apply step: create, add, remove, delete (temp albums), sharing.

`apply.Applier` builds on these and decides the order of the stages; the bookkeeping
(`_send`, `_ok`, `_fail`, the journal) is in `apply_base.py`. Album writes carry no asset
metadata, so Immich's metadata re-extraction after a date write never undoes them.
"""

from __future__ import annotations

from ..immich.client import CHUNK_SIZE
from ..immich.errors import ImmichAuthError, ImmichError
from ..immich.models import Album
from .apply_base import FATAL_ERRORS, ApplyBase, Failed, Job, unless_gone
from .deletions import kept_album_warning
from .journal import album_record
from .plan import AlbumUserChange, Plan
from .rules import CREATED_BY


class AlbumJobs(ApplyBase):
    """Album jobs (each returns a `Job` a stage runs)."""

    async def _find_created_meanwhile(self) -> None:
        """Re-list the albums right before creating (one listing per run that creates some).

        An album of a planned name the key user owns that the snapshot did not see (another
        run or app made it meanwhile) is used instead of creating a second one.
        """
        self._meanwhile = {}
        if not self.plan.album_creates:
            return
        self._cancel.check()
        try:
            listed = await self.client.list_albums()
        except FATAL_ERRORS:
            raise
        except ImmichError:  # only a safeguard: the creations go on without it
            return
        me, known = self.lib.me.id, self.lib.albums
        for album in sorted(listed, key=lambda a: (a.created_at, a.id)):
            planned = album.name in self.plan.album_creates
            if planned and album.owner_id == me and album.id not in known:
                self._meanwhile.setdefault(album.name, album)

    def _job_create_album(self, name: str, assets: frozenset[int]) -> Job:
        async def job() -> None:
            ids = self._ids(sorted(assets))
            users = self.plan.album_create_users.get(name, ())
            existing = self._meanwhile.get(name)
            if existing is not None:
                await self._fill_existing(existing, assets, users)
                return
            album = await self._send(
                "album_create",
                1,
                name,
                lambda: self.client.create_album(
                    name, ids, users, known_ids=self.lib.albums.keys(), description=CREATED_BY
                ),
                added=assets,
                fatal=(ImmichAuthError,),  # sent once: a lost answer is no reason to stop
                unanswered=self._uncertain(
                    "album_create",
                    name,
                    ids,
                    new=None,
                    users=[{"user_id": u, "role": r} for u, r in users],
                ),
            )
            if isinstance(album, Failed):
                self._fail("album_add", len(assets), f"album {name!r} not created")
                if users:
                    self._fail("album_user_add", len(users), f"album {name!r} not created")
                return
            self._ok("album_create", 1)
            self._ok("album_add", len(assets))
            self._ok("album_user_add", len(users))
            if len(ids) <= CHUNK_SIZE:  # one request: the answer is the album's final state
                self.created_albums.append((album, ids))
            self.journal.record("album_create", name, ids, new=album.id)
            for user_id, role in users:
                self.journal.record(
                    "album_user_add", name, [user_id], album_id=album.id, role=role, old_role=None
                )

        return job

    async def _fill_existing(
        self, album: Album, assets: frozenset[int], users: tuple[tuple[str, str], ...]
    ) -> None:
        """Give an album created meanwhile what the planned creation would have held."""
        self.report.warnings.append(
            {
                "kind": "album_created_meanwhile",
                "message": f"{album.name!r} was created meanwhile (another run?): used it",
                "asset_id": None,
                "album_id": album.id,
            }
        )
        self.touched_albums.add(album.id)
        ids = self._ids(sorted(assets))
        results = await self._send(
            "album_add",
            len(ids),
            album.name,
            lambda: self.client.add_assets_to_album(album.id, ids),
            added=assets,
            album_id=album.id,
            unanswered=self._uncertain("album_add", album.name, ids, album_id=album.id),
        )
        if not isinstance(results, Failed):
            failed = self._bulk_failures("album_add", results, {"album_id": album.id})
            self._ok("album_add", len(ids) - len(failed))
            added = [r.id for r in results if r.success]
            self.journal.record("album_add", album.name, added, album_id=album.id)
        have = {u.user_id for u in album.users}
        missing = [(u, r) for u, r in users if u not in have]
        if missing:
            sent = await self._send(
                "album_user_add",
                len(missing),
                album.name,
                lambda: self.client.add_album_users(album.id, missing),
                album_id=album.id,
            )
            if not isinstance(sent, Failed):
                self._ok("album_user_add", len(missing))
                for user_id, role in missing:
                    self.journal.record(
                        "album_user_add",
                        album.name,
                        [user_id],
                        album_id=album.id,
                        role=role,
                        old_role=None,
                    )

    def _job_album_add(self, album_id: str, chunk: list[int]) -> Job:
        async def job() -> None:
            ids = self._ids(chunk)
            name = self.lib.albums[album_id].name
            self.touched_albums.add(album_id)
            results = await self._send(
                "album_add",
                len(chunk),
                name,
                lambda: self.client.add_assets_to_album(album_id, ids),
                added=chunk,
                album_id=album_id,
                unanswered=self._uncertain("album_add", name, ids, album_id=album_id),
            )
            if isinstance(results, Failed):
                return
            failed = self._bulk_failures("album_add", results, {"album_id": album_id})
            self.failed_assets.update(self.lib.index[i] for i in failed if i in self.lib.index)
            done = [i for i in ids if i not in failed]
            self._ok("album_add", len(done))
            # done, not only r.success: a resend after a lost answer finds them "duplicate".
            self.journal.record("album_add", name, done, album_id=album_id)

        return job

    def _job_album_remove(self, album_id: str, chunk: list[int]) -> Job:
        async def job() -> None:
            ids = self._ids(chunk)
            name = self.lib.albums[album_id].name
            self.touched_albums.add(album_id)
            results = await self._send(
                "album_remove",
                len(chunk),
                name,
                lambda: self.client.remove_assets_from_album(album_id, ids),
                album_id=album_id,
                unanswered=self._uncertain("album_remove", name, ids, album_id=album_id),
            )
            failed = (
                set(ids)
                if isinstance(results, Failed)
                else self._bulk_failures(
                    "album_remove", results, {"album_id": album_id}, ok={"not_found"}
                )
            )
            if failed:
                self._failed_albums.add(album_id)
            done = [i for i in ids if i not in failed]
            if done:
                self._ok("album_remove", len(done))
            if done:  # a resend after a lost answer finds them "not_found": removed all the same
                self.journal.record("album_remove", name, done, album_id=album_id)

        return job

    def _job_album_delete(self, album_id: str) -> Job:
        async def job() -> None:
            name = self.lib.albums[album_id].name
            if album_id in self._failed_albums:
                self._fail("album_delete", 1, f"{name}: not empty", album_id=album_id)
                return
            # Re-read right before deleting: an asset added during the run keeps the album.
            now = await self._send(
                "album_delete", 1, name, lambda: self.client.get_album(album_id), album_id=album_id
            )
            if isinstance(now, Failed):
                return
            if now.asset_count or now.asset_ids:
                why = f"{now.asset_count or len(now.asset_ids or ())} assets arrived during the run"
                self.report.warnings.append(kept_album_warning(name, album_id, why))
                return
            old = album_record(self.lib.albums[album_id])
            sent = await self._send(
                "album_delete",
                1,
                name,
                lambda: unless_gone(self.client.delete_album(album_id)),
                album_id=album_id,
                unanswered=self._uncertain("album_delete", name, [], album_id=album_id, old=old),
            )
            if not isinstance(sent, Failed):
                self._ok("album_delete", 1)
                self.journal.record("album_delete", name, [], album_id=album_id, old=old)

        return job

    def _job_album_users(self, changes: list[AlbumUserChange]) -> Job:
        """One request: every addition to one album at once, or one role change/removal."""
        first = changes[0]
        album_id, kind = first.album_id, first.kind
        name = self.lib.albums[album_id].name

        async def send() -> None:
            if kind == "album_user_add":
                users = [(c.user_id, c.role or "viewer") for c in changes]
                await self.client.add_album_users(album_id, users)
            elif first.role is None:
                await self.client.remove_album_user(album_id, first.user_id)
            else:
                await self.client.update_album_user(album_id, first.user_id, first.role)

        old_roles = {u.user_id: u.role for u in self.lib.albums[album_id].users}

        def journal(**uncertain: bool) -> None:
            for change in changes:
                self.journal.record(
                    kind,
                    name,
                    [change.user_id],
                    album_id=album_id,
                    role=change.role,
                    old_role=old_roles.get(change.user_id),
                    **uncertain,
                )

        async def job() -> None:
            sent = await self._send(
                kind,
                len(changes),
                name,
                send,
                album_id=album_id,
                unanswered=lambda: journal(uncertain=True),
            )
            if isinstance(sent, Failed):
                return
            self._ok(kind, len(changes))
            journal()

        return job


def album_user_jobs(plan: Plan) -> list[list[AlbumUserChange]]:
    """Member changes by request: one for all additions to an album, one per other change."""
    adds: dict[str, list[AlbumUserChange]] = {}
    others: list[list[AlbumUserChange]] = []
    for change in plan.album_users:
        if change.kind == "album_user_add":
            adds.setdefault(change.album_id, []).append(change)
        else:
            others.append([change])
    return [*adds.values(), *others]
