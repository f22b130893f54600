"""Apply a Plan with the client: ordered, chunked, concurrent within a stage, journaled.

Order: create tags -> additions (tags, albums) -> removals -> tag deletions -> dates ->
album deletions -> album members -> verification; within a stage the largest requests go
first. A removal is skipped for an asset whose addition failed in this run, so a move never
loses an asset's classification. An album or tag is re-read right before its deletion and kept
when assets arrived in it during the run.

Every tag write comes before every date write: after a date write Immich writes an XMP
sidecar holding the asset's tags of that moment and re-extracts the metadata about half a
second later, resetting the tags to the sidecar's (upstream immich-app/immich issue 16747), so
a tag written in between would be lost. `verify.Verifier` then waits until those
re-extractions are done, re-reads the tags of every re-dated asset and re-applies what the
server lost. Per-request failures are recorded and the run goes on; authentication and
connection failures stop it (the caller reports them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial

from ..immich.client import CHUNK_SIZE, ImmichClient
from .apply_albums import AlbumJobs, album_user_jobs
from .apply_base import Failed, Job, chunks, unless_gone
from .deletions import kept_tag_warning
from .journal import Journal, old_dates
from .library import Library
from .plan import Plan, split_date_key
from .progress import CancelToken, ProgressCallback
from .report import RunReport
from .verify import Verifier, VerifyPolicy


def estimate_requests(plan: Plan) -> int:
    """Requests `apply` will send (for progress)."""

    def chunked(groups: dict[str, frozenset[int]]) -> int:
        return sum(-(-len(v) // CHUNK_SIZE) for v in groups.values())

    return (
        (1 if plan.tag_creates else 0)
        + chunked(plan.album_creates)
        + chunked(plan.tag_adds)
        + chunked(plan.album_adds)
        + sum(-(-len(assets) // CHUNK_SIZE) for _, _, assets in plan.date_groups())
        + chunked(plan.tag_removes)
        + chunked(plan.album_removes)
        + 2 * len(plan.album_deletes)  # a re-read right before, then the deletion
        + 2 * len(plan.tag_deletes)
        + len(album_user_jobs(plan))
    )


class Applier(AlbumJobs):
    """Executes one Plan, then verifies what Immich's metadata jobs could undo."""

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
        verify: VerifyPolicy | None = None,
    ) -> None:
        super().__init__(
            client, lib, plan, report, journal=journal, progress=progress, cancel=cancel
        )
        self._total = estimate_requests(plan)
        self._verify = verify or VerifyPolicy()
        self.tags_added: dict[str, set[int]] = {}  # path -> assets the server linked
        self.tags_removed: dict[str, set[int]] = {}
        self.dated: dict[int, datetime] = {}  # asset -> the instant written
        # Called once every album change is written, before the verification (which writes
        # tags only): the album cache's closing listing starts there (cache_update.py).
        self.albums_written: Callable[[], None] | None = None

    async def apply(self) -> None:
        """Apply the whole plan, then verify re-dated assets (see the module docstring)."""
        plan = self.plan
        await self._create_tags()
        await self._find_created_meanwhile()
        await self._stage(
            [(len(a), partial(self._job_create_album, n, a)) for n, a in plan.album_creates.items()]
            + [
                (len(c), partial(self._job_tag_add, p, c))
                for p, a in plan.tag_adds.items()
                for c in chunks(sorted(a))
            ]
            + [
                (len(c), partial(self._job_album_add, k, c))
                for k, a in plan.album_adds.items()
                for c in chunks(sorted(a))
            ]
        )
        await self._stage(
            [
                (len(c), partial(self._job_tag_remove, p, c))
                for p, a in plan.tag_removes.items()
                for c in chunks(sorted(a - self.failed_assets))
            ]
            + [
                (len(c), partial(self._job_album_remove, k, c))
                for k, a in plan.album_removes.items()
                for c in chunks(sorted(a - self.failed_assets))
            ]
        )
        for kind, groups in (
            ("tag_remove", plan.tag_removes),
            ("album_remove", plan.album_removes),
        ):
            skipped = sum(len(a & self.failed_assets) for a in groups.values())
            if skipped:
                self._fail(kind, skipped, "skipped: the matching addition failed")
        await self._stage([(1, partial(self._job_tag_delete, p)) for p in plan.tag_deletes])
        await self._stage(
            [
                (len(c), partial(self._job_date, kind, v, c))
                for kind, v, a in plan.date_groups()
                for c in chunks(sorted(a))
            ]
        )
        await self._stage([(1, partial(self._job_album_delete, k)) for k in plan.album_deletes])
        await self._stage(
            [(len(c), partial(self._job_album_users, c)) for c in album_user_jobs(plan)]
        )
        if self.albums_written is not None:
            self.albums_written()
        await Verifier(self, self._verify, self._cancel).run()

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
        if isinstance(tags, Failed):
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
            self.journal.record(
                "tag_create", path, [], new=self._tag_ids[path], created=self._missing(path)
            )

    def _missing(self, path: str) -> list[str]:
        """`path` and its ancestors that the snapshot did not have (`PUT /tags` creates them)."""
        parts = path.split("/")
        paths = ("/".join(parts[:n]) for n in range(1, len(parts) + 1))
        return [p for p in paths if p not in self.lib.tags]

    def _uncertain_tags(self, paths: Iterable[str]) -> None:
        for path in paths:
            self.journal.record(
                "tag_create",
                path,
                [],
                new=self._tag_ids.get(path),
                created=self._missing(path),
                uncertain=True,
            )

    def tag_id(self, path: str) -> str | None:
        """The server id of a tag path (existing or created by this run)."""
        return self._tag_ids.get(path)

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
            if not isinstance(sent, Failed):
                self._ok("tag_add", len(chunk))
                self.tags_added.setdefault(path, set()).update(chunk)
                # ids: assets without the tag when the run read the library; new_links: how
                # many the server says it added (fewer if someone tagged some meanwhile).
                self.journal.record("tag_add", path, ids, tag_id=tag_id, new_links=sent)

        return job

    def _job_date(self, kind: str, key: str, chunk: list[int]) -> Job:
        """`kind` is `date_set` or `date_rezone` (a naive EXIF date given its zone)."""
        value, zone = split_date_key(key)
        extra: dict[str, object] = {"rezone": True} if kind == "date_rezone" else {}
        if zone:  # the IANA zone sent with the date (an undo restoring one)
            extra["time_zone"] = zone

        async def job() -> None:
            ids = self._ids(chunk)
            old = old_dates(self.lib, chunk)
            sent = await self._send(
                kind,
                len(chunk),
                value,
                lambda: self.client.update_assets_date(ids, value, zone),
                unanswered=self._uncertain("date_set", None, ids, new=value, old=old, **extra),
            )
            if not isinstance(sent, Failed):
                self._ok(kind, len(chunk))
                self.dated.update(dict.fromkeys(chunk, datetime.fromisoformat(value)))
                self.journal.record("date_set", None, ids, new=value, old=old, **extra)

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
            if isinstance(results, Failed):
                return
            # not_found: not tagged (any more, or only through a descendant, removed too).
            failed = self._bulk_failures("tag_remove", results, {}, ok={"not_found"})
            done = [i for i in ids if i not in failed]
            self._ok("tag_remove", len(done))
            index = self.lib.index
            self.tags_removed.setdefault(path, set()).update(index[i] for i in done)
            # done, not only r.success: a resend after a lost answer finds the tag gone.
            self.journal.record("tag_remove", path, done, tag_id=tag_id)

        return job

    def _job_tag_delete(self, path: str) -> Job:
        async def job() -> None:
            tag_id = self._tag_ids[path]
            # Re-read right before deleting: an asset tagged during the run keeps the tag.
            carriers = await self._send(
                "tag_delete", 1, path, lambda: self.client.search_asset_ids(tag_id=tag_id)
            )
            if isinstance(carriers, Failed):
                return
            if carriers:
                why = f"{len(carriers)} assets were tagged during the run"
                self.report.warnings.append(kept_tag_warning(path, why))
                return
            sent = await self._send(
                "tag_delete",
                1,
                path,
                lambda: unless_gone(self.client.delete_tag(tag_id)),
                unanswered=self._uncertain("tag_delete", path, [], tag_id=tag_id),
            )
            if not isinstance(sent, Failed):
                self._ok("tag_delete", 1)
                self.journal.record("tag_delete", path, [], tag_id=tag_id)

        return job
