"""What a run and an undo share: the report's guard, connecting, the journal, the steps.

CONTRACT for callers (HA run manager, headless runner) of `runner.run` and `undo.undo`: they
never raise for server or input problems — they return a RunReport with status FAILED and
`error_kind` set (AUTH means the key was rejected: HA starts reauth). They raise
`asyncio.CancelledError` only when their task is cancelled; a `CancelToken` gives a CANCELLED
report instead. `guarded` keeps it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from ..immich.client import ImmichClient
from ..immich.errors import (
    ImmichAuthError,
    ImmichBadRequestError,
    ImmichConnectionError,
    ImmichError,
    ImmichInvalidResponseError,
    ImmichPermissionError,
    ImmichUnsupportedVersionError,
)
from ..immich.models import ServerInfo, VersionSupport
from .album_cache import AlbumCache
from .apply import Applier
from .cache_update import FinalListing, forget_touched, lists_albums, record_applied
from .deletions import confirm_deletions
from .journal import Journal, JournalWriteError
from .journal_read import JournalReadError
from .lease import LEASE_LEFT, AnotherRunActiveError, live_lease, run_lease
from .library import Library
from .links import with_urls
from .permissions import Capabilities
from .plan import Plan
from .progress import CancelToken, Progress, ProgressCallback, RunCancelledError, RunPhase
from .report import MAX_PLANNED_CHANGES, ErrorKind, RunReport, RunStatus
from .rules import RulesError
from .scope import InvalidAssetIdError
from .verify import VerifyPolicy

_LOGGER = logging.getLogger(__name__)

READ_ONLY_WARNING = (
    "the API key has no write permission: this run is a dry run (nothing was changed); "
    "the planned changes show what a key with write permissions would do"
)

_ERROR_KINDS: tuple[tuple[type[Exception], ErrorKind], ...] = (
    (ImmichAuthError, ErrorKind.AUTH),
    (ImmichPermissionError, ErrorKind.PERMISSION),
    (ImmichConnectionError, ErrorKind.CONNECTION),
    (ImmichUnsupportedVersionError, ErrorKind.UNSUPPORTED_VERSION),
    (ImmichInvalidResponseError, ErrorKind.INVALID_RESPONSE),
    (InvalidAssetIdError, ErrorKind.INVALID_INPUT),
    (RulesError, ErrorKind.INVALID_INPUT),  # e.g. a user pattern too slow on an album name
    (ImmichBadRequestError, ErrorKind.SERVER),
    (ImmichError, ErrorKind.SERVER),
    (JournalWriteError, ErrorKind.JOURNAL),
    (JournalReadError, ErrorKind.INVALID_INPUT),  # an undo of a run the journal cannot give
)


async def guarded(
    client: ImmichClient,
    report: RunReport,
    journal: Journal | None,
    cancel: CancelToken,
    body: Coroutine[Any, Any, None],
) -> RunReport:
    """Await `body`, a job filling `report`, and finish the report (the CONTRACT above).

    Errors become the report's status; request statistics and the journal's end line are added.
    """
    stats = client.stats
    client.start_run()
    before = (Counter(stats.by_endpoint), stats.retries, stats.throttled_seconds, stats.writes)
    limits_mark = client.limiter.mark()
    # A cancel also ends the client's waits (a stalled read, a backoff) at once.
    stop_listening = cancel.on_cancel(lambda: client.interrupt(RunCancelledError))
    try:
        await body
    except RunCancelledError:
        report.status = RunStatus.CANCELLED
    except AnotherRunActiveError as busy:
        report.status = RunStatus.SKIPPED
        report.warnings.append(note("another_run_active", str(busy)))
    except asyncio.CancelledError:
        _end_journal(journal, "interrupted")
        raise
    except Exception as err:
        report.status = RunStatus.FAILED
        if isinstance(err, ImmichUnsupportedVersionError):
            report.server_version = err.version
        report.error_kind = next(
            (kind for cls, kind in _ERROR_KINDS if isinstance(err, cls)), ErrorKind.UNKNOWN
        )
        report.error_message = str(err) or type(err).__name__
        if report.error_kind is ErrorKind.UNKNOWN:
            _LOGGER.exception("Run failed unexpectedly")
    finally:
        stop_listening()
        report.finished_at = datetime.now(UTC)
        by_endpoint = Counter(stats.by_endpoint)
        by_endpoint.subtract(before[0])
        report.api.by_endpoint = {k: v for k, v in sorted(by_endpoint.items()) if v > 0}
        report.api.requests = sum(report.api.by_endpoint.values())
        report.api.retries = stats.retries - before[1]
        report.api.throttled_seconds = round(stats.throttled_seconds - before[2], 3)
        report.api.writes = stats.writes - before[3]
        report.api.concurrency = client.limiter.summary_since(limits_mark)
    if report.status not in {RunStatus.SUCCESS, RunStatus.PARTIAL}:
        report.newest_update = ""  # skipped, failed or cancelled: what it read is still new
    _end_journal(journal, str(report.status), failed_changes=dict(report.failed_changes))
    return report


async def connect(client: ImmichClient, report: RunReport) -> tuple[ServerInfo, Capabilities]:
    """Version (read at every run), user and key; what the key may write.

    A key without any write permission makes the run a dry run (with a warning).
    """
    info = await client.connect()
    report.server_version = str(info.version)
    report.user_id = info.user.id
    if info.version.support is VersionSupport.NEWER:
        tested = info.version.tested_up_to
        message = f"Immich {info.version} is newer than tested ({tested}); using its calls"
        report.warnings.append(note("untested_version", message))
    caps = Capabilities.from_permissions(info.api_key.permissions)
    if caps.read_only:  # nothing could be written: show what a run would do
        report.dry_run = True
        report.warnings.append(note("read_only_key", READ_ONLY_WARNING))
    else:
        report.warnings.extend(note("permission_missing", w) for w in caps.disabled())
    return info, caps


def begin_journal(
    journal: Journal | None, client: ImmichClient, report: RunReport, info: ServerInfo, **meta: Any
) -> None:
    """The journal's start line: the run, its server and the key's user."""
    if journal is not None:
        journal.begin(
            report.id,
            started_at=report.started_at.isoformat(),
            server=client.web_url,
            server_version=report.server_version,
            user_id=info.user.id,
            **meta,
        )


async def apply_plan(
    client: ImmichClient,
    lib: Library,
    plan: Plan,
    report: RunReport,
    *,
    journal: Journal | None,
    progress: ProgressCallback,
    cancel: CancelToken,
    verify: VerifyPolicy | None,
    album_cache: AlbumCache | None,
    caps: Capabilities,
    then: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Apply, verify, record in the album cache what was applied, then `then`: the run lease.

    `then` is more writes (the migration of old output tags). One writing run at a time per
    Immich user (`lease.py`): a run with nothing to write takes no lease;
    `AnotherRunActiveError` when another run holds it. A run with failed changes is PARTIAL.
    """
    if plan.is_empty and then is None:
        return
    lease = run_lease(client, report, caps)
    try:
        if lease is not None:
            await lease.acquire()
        if not plan.is_empty:
            await _apply(client, lib, plan, report, journal, progress, cancel, verify, album_cache)
        if then is not None:
            await then()
    except asyncio.CancelledError:  # the task is ending: a brief try, else it expires
        if lease is not None:
            await lease.release_on_cancel()
        raise
    finally:
        if lease is not None:
            await lease.release(patient=not cancel.cancelled)  # a no-op once released
            if lease.left_until is not None:
                left = LEASE_LEFT % lease.left_until.isoformat(timespec="seconds")
                report.warnings.append(note("run_lease_left", left))


async def _apply(  # noqa: PLR0917
    client: ImmichClient,
    lib: Library,
    plan: Plan,
    report: RunReport,
    journal: Journal | None,
    progress: ProgressCallback,
    cancel: CancelToken,
    verify: VerifyPolicy | None,
    album_cache: AlbumCache | None,
) -> None:
    started = time.perf_counter()
    listing = FinalListing(client)
    applier = Applier(
        client, lib, plan, report, journal=journal, progress=progress, cancel=cancel, verify=verify
    )
    if album_cache is not None and lists_albums(lib, plan):
        applier.albums_written = listing.start  # the listing goes beside the verification
    try:
        await applier.apply()
        if album_cache is not None:
            await record_applied(listing, album_cache, lib, plan, applier)
    except BaseException:
        if album_cache is not None:
            forget_touched(album_cache, applier)
        raise
    finally:
        listing.cancel()
    report.phase_seconds["apply"] = round(time.perf_counter() - started, 3)
    if report.failed_changes:
        report.status = RunStatus.PARTIAL


def _end_journal(journal: Journal | None, status: str, **meta: object) -> None:
    """The journal's end line for this run; a write error is reported by the file's owner."""
    if journal is not None:
        with contextlib.suppress(JournalWriteError):
            journal.end(status, **meta)


def note(kind: str, message: str, asset_id: str | None = None) -> dict[str, str | None]:
    """A report warning: its kind, its message and the asset it is about."""
    return {"kind": kind, "message": message, "asset_id": asset_id, "album_id": None}


class Job:
    """The steps of one run or undo, filling one report (subclasses add `execute`)."""

    def __init__(
        self,
        client: ImmichClient,
        report: RunReport,
        progress: ProgressCallback | None,
        cancel: CancelToken,
        verify: VerifyPolicy | None,
    ) -> None:
        self.client = client
        self.report = report
        self.progress = progress
        self.cancel = cancel
        self.verify = verify

    def emit(self, tick: Progress) -> None:
        """Pass a progress tick on (if anyone listens)."""
        if self.progress is not None:
            self.progress(tick)

    def loaded(self, lib: Library, started: float) -> AnotherRunActiveError | None:
        """After the snapshot: its time, the library's size and newest update; a safe point.

        Another run's live lease skips a writing job here, before planning, with nothing
        written; a dry run goes on (the lease is returned, for it to say so).
        """
        report = self.report
        report.phase_seconds["snapshot"] = round(time.perf_counter() - started, 3)
        report.assets_total = len(lib.assets)
        report.newest_update = lib.newest_update
        self.cancel.check()
        busy = live_lease(lib.tags.values())
        if busy is not None and not report.dry_run:
            raise busy  # another run is writing: skipped before planning, nothing written
        return busy

    async def planned(
        self,
        lib: Library,
        plan: Plan,
        started: float,
        *,
        then: Callable[[], Awaitable[None]] | None = None,
    ) -> Plan:
        """After planning: the deletion checks (dry runs too: same plan), `then`, the time.

        A safe point follows. Returns the plan the checks keep.
        """
        report = self.report
        plan, kept = await confirm_deletions(self.client, lib, plan)
        report.warnings.extend(kept)
        if then is not None:
            await then()
        report.phase_seconds["plan"] = round(time.perf_counter() - started, 3)
        self.emit(Progress(RunPhase.PLANNING, 1, 1))
        self.cancel.check()
        return plan

    async def dry_run_or_apply(
        self,
        lib: Library,
        plan: Plan,
        *,
        journal: Journal | None,
        album_cache: AlbumCache | None,
        caps: Capabilities,
        links: bool = False,
        listed: Callable[[], None] | None = None,
        then: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """A dry run lists the plan (no lease); a writing job applies it (`apply_plan`).

        With `links` the listed changes link to their assets and tags; `listed` adds to the
        listing before its total is taken; `then` is more writes after apply.
        """
        report = self.report
        if report.dry_run:
            report.changes = plan.counts()
            listing = islice(plan.describe(lib), MAX_PLANNED_CHANGES)
            report.planned_changes = (
                with_urls(self.client.web_url, listing) if links else list(listing)
            )
            if listed is not None:
                listed()
            report.planned_changes_total = report.changes_total
            return
        await apply_plan(
            self.client,
            lib,
            plan,
            report,
            journal=journal,
            progress=self.emit,
            cancel=self.cancel,
            verify=self.verify,
            album_cache=album_cache,
            caps=caps,
            then=then,
        )
