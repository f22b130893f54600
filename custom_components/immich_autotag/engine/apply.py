"""Apply a Plan with the client: ordered, chunked, concurrent within a stage, journaled.

Order: create tags and albums -> adds (tags, albums, dates) -> removals -> deletions ->
album members. A removal is skipped for an asset whose addition failed in this run, so a move
never loses an asset's classification. An album or tag is re-read right before its deletion
and kept when assets arrived in it during the run. Per-request failures are recorded and the
run goes on; authentication and connection failures stop it (the caller reports them).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, TypeAlias, TypeVar

from ..immich.client import CHUNK_SIZE, ImmichClient
from ..immich.errors import (
    ImmichAuthError,
    ImmichConnectionError,
    ImmichError,
    ImmichNotFoundError,
)
from ..immich.models import Album, BulkIdResult
from .deletions import kept_album_warning, kept_tag_warning
from .journal import Journal, album_record, old_dates
from .library import Library
from .plan import AlbumUserChange, Plan
from .progress import CancelToken, Progress, ProgressCallback, RunCancelledError, RunPhase
from .report import RunReport

FATAL_ERRORS = (ImmichAuthError, ImmichConnectionError)
OK_BULK_ERRORS = frozenset({"duplicate"})  # already a member: the goal is reached
WORKERS = 32  # concurrent jobs per stage; the limiter decides how many are in flight


Job: TypeAlias = Callable[[], Coroutine[Any, Any, None]]
T = TypeVar("T")


class _Failed:
    """Marks a request that failed (recorded in the report)."""


FAILED = _Failed()


async def _unless_gone(request: Awaitable[None]) -> None:
    """A deletion whose target is already gone has reached its goal (e.g. a lost answer)."""
    with contextlib.suppress(ImmichNotFoundError):
        await request


def _chunks(items: list[int]) -> list[list[int]]:
    return [items[i : i + CHUNK_SIZE] for i in range(0, len(items), CHUNK_SIZE)]


def estimate_requests(plan: Plan) -> int:
    """Requests `apply` will send (for progress)."""

    def chunked(groups: dict[str, frozenset[int]]) -> int:
        return sum(-(-len(v) // CHUNK_SIZE) for v in groups.values())

    return (
        (1 if plan.tag_creates else 0)
        + chunked(plan.album_creates)
        + chunked(plan.tag_adds)
        + chunked(plan.album_adds)
        + chunked(plan.date_sets)
        + chunked(plan.tag_removes)
        + chunked(plan.album_removes)
        + 2 * len(plan.album_deletes)  # a re-read right before, then the deletion
        + 2 * len(plan.tag_deletes)
        + len(_album_user_jobs(plan))
    )


def _album_user_jobs(plan: Plan) -> list[list[AlbumUserChange]]:
    """Member changes by request: one for all additions to an album, one per other change."""
    adds: dict[str, list[AlbumUserChange]] = {}
    others: list[list[AlbumUserChange]] = []
    for change in plan.album_users:
        if change.kind == "album_user_add":
            adds.setdefault(change.album_id, []).append(change)
        else:
            others.append([change])
    return [*adds.values(), *others]


class Applier:
    """Executes one Plan."""

    def __init__(
        self,
        client: ImmichClient,
        lib: Library,
        plan: Plan,
        report: RunReport,
        *,
        journal: Journal | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        self.client = client
        self.lib = lib
        self.plan = plan
        self.report = report
        self.journal = journal if journal is not None else Journal()
        self._progress = progress
        self._cancel = cancel or CancelToken()
        self._total = estimate_requests(plan)
        self._done = 0
        self._tag_ids: dict[str, str] = {p: t.id for p, t in lib.tags.items()}
        self.failed_assets: set[int] = set()  # assets with a failed addition
        self.touched_albums: set[str] = set()
        self.created_albums: list[tuple[Album, list[str]]] = []  # complete on creation
        self._failed_albums: set[str] = set()

    # --- bookkeeping --------------------------------------------------------------------
    def _tick(self) -> None:
        self._done += 1
        if self._progress is not None:
            self._progress(Progress(RunPhase.APPLYING, self._done, self._total))

    def _ok(self, kind: str, n: int) -> None:
        if n:
            self.report.changes[kind] = self.report.changes.get(kind, 0) + n

    def _fail(self, kind: str, n: int, message: str, **where: str | None) -> None:
        self.report.failed_changes[kind] = self.report.failed_changes.get(kind, 0) + n
        self.report.add_error(f"{kind}: {message}", **where)

    def _ids(self, assets: Iterable[int]) -> list[str]:
        ids = self.lib.assets.ids
        return [ids[a] for a in assets]

    async def _send(
        self,
        kind: str,
        n: int,
        label: str,
        request: Callable[[], Awaitable[T]],
        *,
        added: Iterable[int] = (),
        album_id: str | None = None,
        fatal: tuple[type[ImmichError], ...] = FATAL_ERRORS,
        unanswered: Callable[[], None] | None = None,
    ) -> T | _Failed:
        """Send one request at a safe point; record a non-fatal failure against `n` changes.

        `added` are the assets whose additions the request carries: when it fails, their
        removals are skipped. Authentication and connection errors propagate (they stop the
        run); a `CancelToken` is honoured before the request, never in the middle of one. When
        the task itself is cancelled while the request is out (Home Assistant unloading,
        Ctrl-C), `unanswered` journals the change as uncertain: the server may have applied it.
        """
        self._cancel.check()
        try:
            return await request()
        except asyncio.CancelledError:
            if unanswered is not None:
                unanswered()
            raise
        except fatal:
            raise
        except ImmichError as err:
            self.failed_assets.update(added)
            self._fail(kind, n, f"{label}: {err}", album_id=album_id)
            return FAILED
        finally:
            self._tick()

    def _uncertain(
        self, kind: str, target: str | None, ids: list[str], **extra: Any
    ) -> Callable[[], None]:
        """Journals a change whose request's answer a cancellation cut off."""
        return lambda: self.journal.record(kind, target, ids, uncertain=True, **extra)

    async def _stage(self, jobs: list[Job]) -> None:
        """Run jobs with a bounded pool of workers (the limiter caps in-flight requests).

        Coroutines are created only when a worker picks a job up, so a stage of 20,000
        requests costs WORKERS tasks, not 20,000. After a `CancelToken` cancel each worker
        finishes the request it has in flight and stops; then the stage raises.
        """
        if not jobs:
            return
        queue = iter(jobs)

        async def worker() -> None:
            for job in queue:
                try:
                    await job()
                except RunCancelledError:
                    return  # the other workers finish the requests they have in flight

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(WORKERS, len(jobs))):
                    group.create_task(worker())
        except BaseExceptionGroup as errors:
            raise errors.exceptions[0] from None
        self._cancel.check()

    def _bulk_failures(
        self,
        kind: str,
        results: list[BulkIdResult],
        where: dict[str, str | None],
        ok: frozenset[str] | set[str] = frozenset(),
    ) -> set[str]:
        """Ids whose change failed; `ok` errors mean the goal is reached all the same."""
        accepted = OK_BULK_ERRORS | ok
        failed = {r.id for r in results if not r.success and r.error not in accepted}
        for r in results:
            if r.id in failed:
                self._fail(kind, 1, r.error or "failed", asset_id=r.id, **where)
        return failed

    # --- stages -------------------------------------------------------------------------
    async def apply(self) -> None:
        """Apply the whole plan."""
        await self._create_tags()
        await self._stage(
            [self._job_create_album(n, a) for n, a in self.plan.album_creates.items()]
            + [
                self._job_tag_add(p, c)
                for p, a in self.plan.tag_adds.items()
                for c in _chunks(sorted(a))
            ]
            + [
                self._job_album_add(k, c)
                for k, a in self.plan.album_adds.items()
                for c in _chunks(sorted(a))
            ]
            + [
                self._job_date(v, c)
                for v, a in self.plan.date_sets.items()
                for c in _chunks(sorted(a))
            ]
        )
        await self._stage(
            [
                self._job_tag_remove(p, c)
                for p, a in self.plan.tag_removes.items()
                for c in _chunks(sorted(a - self.failed_assets))
            ]
            + [
                self._job_album_remove(k, c)
                for k, a in self.plan.album_removes.items()
                for c in _chunks(sorted(a - self.failed_assets))
            ]
        )
        for kind, groups in (
            ("tag_remove", self.plan.tag_removes),
            ("album_remove", self.plan.album_removes),
        ):
            skipped = sum(len(a & self.failed_assets) for a in groups.values())
            if skipped:
                self._fail(kind, skipped, "skipped: the matching addition failed")
        await self._stage(
            [self._job_album_delete(k) for k in self.plan.album_deletes]
            + [self._job_tag_delete(p) for p in self.plan.tag_deletes]
        )
        await self._stage([self._job_album_users(c) for c in _album_user_jobs(self.plan)])

    async def _create_tags(self) -> None:
        paths = self.plan.tag_creates
        if not paths:
            return
        tags = await self._send(
            "tag_create",
            len(paths),
            "tags",
            lambda: self.client.upsert_tags(paths),
            unanswered=lambda: self._uncertain_tags(paths),
        )
        if isinstance(tags, _Failed):
            return
        for tag in tags:
            self._tag_ids[tag.value] = tag.id
        if any(p not in self._tag_ids for p in paths):  # some servers omit tags: read back
            try:
                listed = await self.client.list_tags()
            except asyncio.CancelledError:
                self._uncertain_tags(paths)
                raise
            for tag in listed:
                self._tag_ids.setdefault(tag.value, tag.id)
        created = [p for p in paths if p in self._tag_ids]
        self._ok("tag_create", len(created))
        for path in created:
            self.journal.record("tag_create", path, [], new=self._tag_ids[path])

    def _uncertain_tags(self, paths: Iterable[str]) -> None:
        for path in paths:
            self.journal.record("tag_create", path, [], new=self._tag_ids.get(path), uncertain=True)

    def _job_create_album(self, name: str, assets: frozenset[int]) -> Job:
        async def job() -> None:
            ids = self._ids(sorted(assets))
            users = self.plan.album_create_users.get(name, ())
            album = await self._send(
                "album_create",
                1,
                name,
                lambda: self.client.create_album(
                    name, ids, users, known_ids=self.lib.albums.keys()
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
            if isinstance(album, _Failed):
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

    def _job_tag_add(self, path: str, chunk: list[int]) -> Job:
        async def job() -> None:
            tag_id = self._tag_ids.get(path)
            if tag_id is None:
                self.failed_assets.update(chunk)
                self._fail("tag_add", len(chunk), f"tag {path!r} could not be created")
                return
            ids = self._ids(chunk)
            sent = await self._send(
                "tag_add",
                len(chunk),
                path,
                lambda: self.client.tag_assets([tag_id], ids),
                added=chunk,
                unanswered=self._uncertain("tag_add", path, ids, tag_id=tag_id),
            )
            if not isinstance(sent, _Failed):
                self._ok("tag_add", len(chunk))
                # ids: assets without the tag when the run read the library; new_links: how
                # many the server says it added (fewer if someone tagged some meanwhile).
                self.journal.record("tag_add", path, ids, tag_id=tag_id, new_links=sent)

        return job

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
            if isinstance(results, _Failed):
                return
            failed = self._bulk_failures("album_add", results, {"album_id": album_id})
            self.failed_assets.update(self.lib.index[i] for i in failed if i in self.lib.index)
            done = [i for i in ids if i not in failed]
            self._ok("album_add", len(done))
            added = [r.id for r in results if r.success]  # not those already in it
            self.journal.record("album_add", name, added, album_id=album_id)

        return job

    def _job_date(self, value: str, chunk: list[int]) -> Job:
        async def job() -> None:
            ids = self._ids(chunk)
            old = old_dates(self.lib, chunk)
            sent = await self._send(
                "date_set",
                len(chunk),
                value,
                lambda: self.client.update_assets_date(ids, value),
                added=chunk,
                unanswered=self._uncertain("date_set", None, ids, new=value, old=old),
            )
            if not isinstance(sent, _Failed):
                self._ok("date_set", len(chunk))
                self.journal.record("date_set", None, ids, new=value, old=old)

        return job

    def _job_tag_remove(self, path: str, chunk: list[int]) -> Job:
        async def job() -> None:
            tag_id = self._tag_ids[path]
            ids = self._ids(chunk)
            results = await self._send(
                "tag_remove",
                len(chunk),
                path,
                lambda: self.client.untag_assets(tag_id, ids),
                unanswered=self._uncertain("tag_remove", path, ids, tag_id=tag_id),
            )
            if isinstance(results, _Failed):
                return
            # not_found: not tagged (any more, or only through a descendant, removed too).
            failed = self._bulk_failures("tag_remove", results, {}, ok={"not_found"})
            done = [i for i in ids if i not in failed]
            self._ok("tag_remove", len(done))
            removed = [r.id for r in results if r.success]
            self.journal.record("tag_remove", path, removed, tag_id=tag_id)

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
                if isinstance(results, _Failed)
                else self._bulk_failures(
                    "album_remove", results, {"album_id": album_id}, ok={"not_found"}
                )
            )
            if failed:
                self._failed_albums.add(album_id)
            done = [i for i in ids if i not in failed]
            if done:
                self._ok("album_remove", len(done))
            removed = [] if isinstance(results, _Failed) else [r.id for r in results if r.success]
            if removed:
                self.journal.record("album_remove", name, removed, album_id=album_id)

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
            if isinstance(now, _Failed):
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
                lambda: _unless_gone(self.client.delete_album(album_id)),
                album_id=album_id,
                unanswered=self._uncertain("album_delete", name, [], album_id=album_id, old=old),
            )
            if not isinstance(sent, _Failed):
                self._ok("album_delete", 1)
                self.journal.record("album_delete", name, [], album_id=album_id, old=old)

        return job

    def _job_tag_delete(self, path: str) -> Job:
        async def job() -> None:
            tag_id = self._tag_ids[path]
            # Re-read right before deleting: an asset tagged during the run keeps the tag.
            carriers = await self._send(
                "tag_delete", 1, path, lambda: self.client.search_asset_ids(tag_id=tag_id)
            )
            if isinstance(carriers, _Failed):
                return
            if carriers:
                why = f"{len(carriers)} assets were tagged during the run"
                self.report.warnings.append(kept_tag_warning(path, why))
                return
            sent = await self._send(
                "tag_delete",
                1,
                path,
                lambda: _unless_gone(self.client.delete_tag(tag_id)),
                unanswered=self._uncertain("tag_delete", path, [], tag_id=tag_id),
            )
            if not isinstance(sent, _Failed):
                self._ok("tag_delete", 1)
                self.journal.record("tag_delete", path, [], tag_id=tag_id)

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
            if isinstance(sent, _Failed):
                return
            self._ok(kind, len(changes))
            journal()

        return job
