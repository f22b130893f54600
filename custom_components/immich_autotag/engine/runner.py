"""One run: snapshot -> plan -> (dry run stops) -> apply -> report.

The steps a run shares with an undo (the report's guard and its CONTRACT, connect, the
journal, the lease and apply) are in `job.py`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Collection
from datetime import UTC, datetime
from functools import partial

from ..immich.client import ImmichClient
from .album_cache import AlbumCache
from .folder_albums import is_upload_storage
from .job import Job, begin_journal, connect, guarded, note
from .journal import Journal
from .library import Library
from .links import quick_links
from .output_names import OutputHistory
from .output_step import OutputStep
from .plan import Plan, make_plan
from .progress import CancelToken, Progress, ProgressCallback, RunPhase
from .report import MAX_ERRORS, RunReport
from .rules import Rules
from .scope import compute_scope, parse_asset_ids, unknown_asset_ids
from .snapshot import album_is_relevant, load_library
from .state import State
from .verify import VerifyPolicy


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
    job = _Run(client, rules, report, progress, token, verify)
    job.outputs = OutputStep(report, output_history, migrate=migrate_outputs)
    body = job.execute(asset_ids, album_cache, journal)
    return await guarded(client, report, journal, token, body)


class _Run(Job):
    """The steps of one run, filling one report."""

    def __init__(  # noqa: PLR0917
        self,
        client: ImmichClient,
        rules: Rules,
        report: RunReport,
        progress: ProgressCallback | None,
        cancel: CancelToken,
        verify: VerifyPolicy | None,
    ) -> None:
        super().__init__(client, report, progress, cancel, verify)
        self.rules = rules
        self.outputs = OutputStep(report, None, migrate=False)

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
        busy = self.loaded(lib, started)

        self.emit(Progress(RunPhase.PLANNING))
        started = time.perf_counter()
        # CPU-bound on big libraries: in a worker thread, so the event loop stays responsive.
        plan = await asyncio.to_thread(_plan, lib, rules, asset_ids, report)
        if not caps.read_only:
            plan = caps.restrict_plan(plan, lib)
        find_outputs = partial(
            self.outputs.find,
            client,
            self.rules,
            lib,
            info,
            caps,
            journal=journal,
            asset_ids=asset_ids,
        )
        plan = await self.planned(lib, plan, started, then=find_outputs)

        if report.dry_run and busy is not None:  # a dry run takes no lease: it says one is held
            report.warnings.append(note("another_run_writing", WRITING % busy.holder[:12]))
        await self.dry_run_or_apply(
            lib,
            plan,
            journal=journal,
            album_cache=album_cache,
            caps=caps,
            links=True,
            listed=partial(self.outputs.plan, client.web_url),
            then=(
                partial(self.outputs.apply, client, journal, self.cancel)
                if self.outputs.writes
                else None
            ),
        )
        self.outputs.finish(client.web_url)
        report.links = quick_links(client.web_url, rules, lib)
        # Freeing a big library and its plan takes tens of milliseconds (20-40 ms at 100,000
        # assets): their last references are dropped in a worker thread, not in the event loop.
        held: list[object] = [lib, plan]
        del lib, plan, find_outputs
        await asyncio.to_thread(held.clear)


def _plan(lib: Library, rules: Rules, asset_ids: Collection[str] | None, report: RunReport) -> Plan:
    """Unknown ids asked for, scope, phases and the report's counts (runs in a worker thread)."""
    for unknown in unknown_asset_ids(lib, asset_ids or ()):
        report.warnings.append(note("unknown_asset_id", "not found or not yours", unknown))
    scope = compute_scope(lib, rules, asset_ids)
    focused = asset_ids is not None
    state, plan = make_plan(lib, rules, scope, report.phase_seconds, focused=focused)
    _fill_from_state(report, state, rules)
    return plan


WRITING = (
    "another run (%s) is writing to this Immich account now: this preview may change when it ends"
)
NO_LIBRARY_PATHS = (
    "folder albums are on, but no asset in scope comes from an external library: uploaded"
    " files live in Immich's storage (upload/<user>/xx/yy/<uuid>.jpg), whose folder names"
    " carry no dates, so folder albums only apply to external libraries"
)


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
            report.warnings.append(note("no_library_paths", NO_LIBRARY_PATHS))
    for state_note in state.notes:
        if len(report.warnings) >= MAX_ERRORS:
            break
        report.warnings.append(
            {
                "kind": state_note.kind,
                "message": state_note.message,
                "asset_id": state_note.asset_id,
                "album_id": state_note.album_id,
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
