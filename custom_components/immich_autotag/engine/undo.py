"""Undo one journaled run: itself a run (snapshot, plan, dry run or apply, journal, report).

1. connect, and pick the run from the journal (`last`: the newest run of this server and user);
2. snapshot what the run touched: every asset (current dates, which still exist), the members
   of its tags and albums (`snapshot.load_selected`, the album cache as for a run);
3. plan (`undo_plan.plan_undo`): revert each change whose value is still the one the run set;
4. the same deletion checks (trashed assets keep a tag or album) and permission limits as a
   run, then the same apply step: tags before dates, the check after apply, the journal — so
   an undo is undone like any run.

The undo's report and start line carry the output names of the undone run's start line
(`output_names.py`): old output tags a migration deleted and the undo created again are found
by the next run, as before the migration.

Same CONTRACT as `runner.run` (`job.py`): problems become a FAILED report (a run the journal
cannot give is `invalid_input`), never an exception. `RunReport.skipped` lists what a later
edit changed (kept as it is); `RunReport.unchanged` counts changes already as before the run.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from functools import partial

from ..immich.client import ImmichClient
from .album_cache import AlbumCache
from .job import Job, begin_journal, connect, guarded, note
from .journal import Journal
from .journal_read import JournalContents
from .output_names import parse_record
from .progress import CancelToken, Progress, ProgressCallback, RunPhase
from .report import MAX_ERRORS, RunReport
from .snapshot import load_selected
from .undo_checks import Skip
from .undo_plan import plan_undo, undo_selection
from .verify import VerifyPolicy

KEPT_WARNINGS = {"temp_album_kept": "album_create", "tag_kept": "tag_create"}


async def undo(
    client: ImmichClient,
    contents: JournalContents,
    run_id: str,
    *,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    album_cache: AlbumCache | None = None,
    journal: Journal | None = None,
    verify: VerifyPolicy | None = None,
) -> RunReport:
    """Revert the run `run_id` (or `last`) of `contents` on the server behind `client`."""
    report = RunReport(id=uuid.uuid4().hex, started_at=datetime.now(UTC), dry_run=dry_run)
    token = cancel or CancelToken()
    job = _Undo(client, report, progress, token, verify)
    body = job.execute(contents, run_id, album_cache, journal)
    return await guarded(client, report, journal, token, body)


class _Undo(Job):
    """The steps of one undo, filling one report."""

    async def execute(
        self,
        contents: JournalContents,
        run_id: str,
        album_cache: AlbumCache | None,
        journal: Journal | None,
    ) -> None:
        client, report = self.client, self.report
        started = time.perf_counter()
        self.emit(Progress(RunPhase.LOADING))
        info, caps = await connect(client, report)
        target = contents.select(run_id, client.web_url, info.user.id)
        report.undo_of = target.id
        if target.end is None:
            report.warnings.append(note("run_unfinished", f"run {target.id} has no end line"))
        # The output names as the undone run found them (its start line): the library holds
        # them again once it is undone, so the next run finds old output tags it restored.
        outputs = parse_record(target.header.get("outputs"))
        report.output_names = outputs or {}
        meta = {} if outputs is None else {"outputs": outputs}
        begin_journal(journal, client, report, info, undoes=target.id, **meta)
        lib = await load_selected(
            client,
            info.user,
            partial(undo_selection, target),
            cache=album_cache,
            progress=self.emit,
            cancel=self.cancel,
        )
        self.loaded(lib, started)

        self.emit(Progress(RunPhase.PLANNING))
        started = time.perf_counter()
        undone = await asyncio.to_thread(plan_undo, lib, target)
        plan = undone.plan if caps.read_only else caps.restrict_plan(undone.plan, lib)
        plan = await self.planned(lib, plan, started)
        skipped = list(undone.skipped)
        await self.dry_run_or_apply(lib, plan, journal=journal, album_cache=album_cache, caps=caps)
        # A tag or album the undo keeps because something else uses it is a skipped change.
        for warning in report.warnings:
            kind = KEPT_WARNINGS.get(str(warning.get("kind")))
            if kind is not None:
                message = str(warning.get("message"))
                what = message.split(" kept:", maxsplit=1)[0]
                skipped.append(Skip(None, kind, what, None, message))
        report.unchanged = undone.unchanged
        report.skipped_total = len(skipped)
        report.skipped = [s.to_dict() for s in skipped[:MAX_ERRORS]]
