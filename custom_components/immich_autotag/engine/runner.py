"""One run: snapshot -> plan -> (dry run stops) -> apply -> report.

CONTRACT for callers (HA run manager, headless runner): `run()` never raises for server or
input problems — it returns a RunReport with status FAILED and `error_kind` set (AUTH means
the key was rejected: HA starts reauth). It raises `asyncio.CancelledError` only when its task
is cancelled; a `CancelToken` gives a CANCELLED report instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Coroutine
from datetime import UTC, datetime
from functools import partial
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
from .cache_update import forget_touched, record_applied
from .deletions import confirm_deletions
from .folder_albums import is_upload_storage
from .journal import Journal, JournalWriteError
from .journal_read import JournalReadError
from .lease import LEASE_PERMISSIONS, AnotherRunActiveError, RunLease, live_lease
from .library import Library
from .links import quick_links, with_urls
from .output_names import OutputHistory
from .output_step import OutputStep
from .permissions import Capabilities
from .plan import Plan, make_plan
from .progress import CancelToken, Progress, ProgressCallback, RunCancelledError, RunPhase
from .report import MAX_ERRORS, MAX_PLANNED_CHANGES, ErrorKind, RunReport, RunStatus
from .rules import Rules, RulesError
from .scope import InvalidAssetIdError, compute_scope, parse_asset_ids, unknown_asset_ids
from .snapshot import album_is_relevant, load_library
from .state import State
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


async def run(
    client: ImmichClient,
    rules: Rules,
    *,
    dry_run: bool = False,
    asset_ids: Collection[str] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    album_cache: AlbumCache | None = None,
    journal: Journal | None = None,
    verify: VerifyPolicy | None = None,
    output_history: OutputHistory | None = None,
    migrate_outputs: bool = False,
) -> RunReport:
    """Run the rules once against the server behind `client` (its version read first).

    `verify` bounds the check after apply (see `verify.py`); the default waits up to 60 s
    for Immich's metadata jobs. `output_history` gives the output names an earlier run
    recorded: old output tags are then reported, and moved with `migrate_outputs`
    (`migration.py`); without it the run does neither.
    """
    report = RunReport(id=uuid.uuid4().hex, started_at=datetime.now(UTC), dry_run=dry_run)
    token = cancel or CancelToken()
    job = _Run(client, rules, report, progress, token, verify=verify)
    job.outputs = OutputStep(report, output_history, migrate=migrate_outputs)
    body = job.execute(asset_ids, album_cache, journal)
    return await guarded(client, report, journal, token, body)


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
        report.warnings.append(_note("another_run_active", str(busy)))
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
        report.warnings.append(_note("untested_version", message))
    caps = Capabilities.from_permissions(info.api_key.permissions)
    if caps.read_only:  # nothing could be written: show what a run would do
        report.dry_run = True
        report.warnings.append(_note("read_only_key", READ_ONLY_WARNING))
    else:
        report.warnings.extend(_note("permission_missing", w) for w in caps.disabled())
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
            await lease.release()  # a no-op once released
            if lease.left_until is not None:
                left = LEASE_LEFT % lease.left_until.isoformat(timespec="seconds")
                report.warnings.append(_note("run_lease_left", left))


def run_lease(client: ImmichClient, report: RunReport, caps: Capabilities) -> RunLease | None:
    """The run's lease, not yet taken; None when the key cannot take one."""
    if not all(caps.allows(p) for p in LEASE_PERMISSIONS):
        report.warnings.append(_note("no_run_lease", NO_LEASE))
        return None
    return RunLease(client, report.id)


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
    applier = Applier(
        client, lib, plan, report, journal=journal, progress=progress, cancel=cancel, verify=verify
    )
    try:
        await applier.apply()
    except BaseException:
        if album_cache is not None:
            forget_touched(album_cache, applier)
        raise
    if album_cache is not None:
        await record_applied(client, album_cache, lib, plan, applier)
    report.phase_seconds["apply"] = round(time.perf_counter() - started, 3)
    if report.failed_changes:
        report.status = RunStatus.PARTIAL


def _end_journal(journal: Journal | None, status: str, **meta: object) -> None:
    """The journal's end line for this run; a write error is reported by the file's owner."""
    if journal is not None:
        with contextlib.suppress(JournalWriteError):
            journal.end(status, **meta)


class _Run:
    """The steps of one run, filling one report."""

    def __init__(
        self,
        client: ImmichClient,
        rules: Rules,
        report: RunReport,
        progress: ProgressCallback | None,
        cancel: CancelToken,
        *,
        verify: VerifyPolicy | None,
    ) -> None:
        self.client = client
        self.verify = verify
        self.rules = rules
        self.report = report
        self.progress = progress
        self.cancel = cancel
        self.outputs = OutputStep(report, None, migrate=False)

    def emit(self, tick: Progress) -> None:
        if self.progress is not None:
            self.progress(tick)

    async def execute(
        self,
        asset_ids: Collection[str] | None,
        album_cache: AlbumCache | None,
        journal: Journal | None,
    ) -> None:
        report, rules, client = self.report, self.rules, self.client
        if asset_ids is not None:  # a malformed id is an error before any request
            asset_ids = parse_asset_ids(asset_ids)
        self.emit(Progress(RunPhase.LOADING))
        info, caps = await connect(client, report)
        begin_journal(journal, client, report, info)
        if not caps.read_only:
            rules = caps.restrict(rules)
        started = time.perf_counter()
        lib = await load_library(
            client, rules, info.user, cache=album_cache, progress=self.emit, cancel=self.cancel
        )
        report.phase_seconds["snapshot"] = round(time.perf_counter() - started, 3)
        report.assets_total = len(lib.assets)
        report.newest_update = lib.newest_update
        self.cancel.check()
        busy = live_lease(lib.tags.values())
        if busy is not None and not report.dry_run:
            raise busy  # another run is writing: skipped before planning, nothing written

        self.emit(Progress(RunPhase.PLANNING))
        started = time.perf_counter()
        for unknown in unknown_asset_ids(lib, asset_ids or ()):
            report.warnings.append(_note("unknown_asset_id", "not found or not yours", unknown))
        # CPU-bound on big libraries: in a worker thread, so the event loop stays responsive.
        plan = await asyncio.to_thread(_plan, lib, rules, asset_ids, report)
        if not caps.read_only:
            plan = caps.restrict_plan(plan, lib)
        plan, kept = await confirm_deletions(client, lib, plan)  # dry runs too: same plan
        report.warnings.extend(kept)
        await self.outputs.find(
            client, self.rules, lib, info, caps, journal=journal, asset_ids=asset_ids
        )
        report.phase_seconds["plan"] = round(time.perf_counter() - started, 3)
        self.emit(Progress(RunPhase.PLANNING, 1, 1))
        self.cancel.check()

        if report.dry_run:  # takes no lease (it writes nothing): it only says when one is held
            if busy is not None:
                report.warnings.append(_note("another_run_writing", WRITING % busy.holder[:12]))
            report.changes = plan.counts()
            listing = islice(plan.describe(lib), MAX_PLANNED_CHANGES)
            report.planned_changes = with_urls(client.web_url, listing)
            self.outputs.plan(client.web_url)
            report.planned_changes_total = report.changes_total
        else:
            await apply_plan(
                client,
                lib,
                plan,
                report,
                journal=journal,
                progress=self.emit,
                cancel=self.cancel,
                verify=self.verify,
                album_cache=album_cache,
                caps=caps,
                then=(
                    partial(self.outputs.apply, client, journal, self.cancel)
                    if self.outputs.writes
                    else None
                ),
            )
        self.outputs.finish(client.web_url)
        report.links = quick_links(client.web_url, rules, lib)


def _plan(lib: Library, rules: Rules, asset_ids: Collection[str] | None, report: RunReport) -> Plan:
    """Scope, phases and the report's counts (pure; runs in a worker thread)."""
    scope = compute_scope(lib, rules, asset_ids)
    focused = asset_ids is not None
    state, plan = make_plan(lib, rules, scope, report.phase_seconds, focused=focused)
    _fill_from_state(report, state, rules)
    return plan


LEASE_LEFT = (
    "the run lease could not be deleted (see the log); other runs of this Immich user are"
    " skipped until it expires at %s"
)
WRITING = (
    "another run (%s) is writing to this Immich account now: this preview may change when it ends"
)
NO_LEASE = (
    "runs at the same time are not prevented: the API key lacks tag.create or"
    " tag.delete, which the run lease (a tool-owned tag) needs"
)
NO_LIBRARY_PATHS = (
    "folder albums are on, but no asset in scope comes from an external library: uploaded"
    " files live in Immich's storage (upload/<user>/xx/yy/<uuid>.jpg), whose folder names"
    " carry no dates, so folder albums only apply to external libraries"
)


def _note(kind: str, message: str, asset_id: str | None = None) -> dict[str, str | None]:
    return {"kind": kind, "message": message, "asset_id": asset_id, "album_id": None}


def _fill_from_state(report: RunReport, state: State, rules: Rules) -> None:
    """Scope and status counts, counters and warnings from the planned State."""
    report.assets_in_scope = len(state.scope)
    counts = Counter(str(s) for s in state.status.values())
    report.status_counts = {k: counts.get(k, 0) for k in ("classified", "unclassified", "conflict")}
    report.ambiguous_dates = state.counters.get("ambiguous_dates", 0)
    report.date_mismatches = state.counters.get("date_mismatches", 0)
    report.duplicate_conflicts = state.counters.get("duplicate_conflicts", 0)
    report.warnings.extend(_same_name_notes(state.lib, rules))
    if rules.folder_albums.enabled and state.scope:
        folders = state.lib.assets.folders
        if all(is_upload_storage(f) for f in {folders[a] for a in state.scope}):
            report.warnings.append(_note("no_library_paths", NO_LIBRARY_PATHS))
    for note in state.notes:
        if len(report.warnings) >= MAX_ERRORS:
            break
        report.warnings.append(
            {
                "kind": note.kind,
                "message": note.message,
                "asset_id": note.asset_id,
                "album_id": note.album_id,
            }
        )


def _same_name_notes(lib: Library, rules: Rules) -> list[dict[str, str | None]]:
    """One warning per album name the rules use that several albums share."""
    names = Counter(a.name for a in lib.albums.values() if album_is_relevant(a, rules, lib.me.id))
    notes: list[dict[str, str | None]] = []
    for name, n in sorted(names.items()):
        if n < 2:  # noqa: PLR2004
            continue
        own = [a for a in lib.albums_named(name) if a.owner_id == lib.me.id]
        which = (
            "using the oldest of your own"
            if own
            else "none is yours: the tool files into an album of its own"
        )
        notes.append(
            {
                "kind": "same_name_albums",
                "message": f"{n} albums are named {name!r}; {which}",
                "asset_id": None,
                "album_id": (own or lib.albums_named(name))[0].id,
            }
        )
    return notes
