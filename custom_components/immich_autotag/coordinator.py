"""The run manager of one config entry: single-flight runs, progress, reports.

State is pushed to entities through a `DataUpdateCoordinator` without polling
(`update_interval=None`). Runs are background tasks of the config entry, so unloading the
entry or stopping Home Assistant cancels them. Options (rules, limits) are read at the start
of every run: changing them needs no reload. Automatic runs start from `schedule.py` and
`watcher.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Iterator
from datetime import datetime
from functools import partial
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util
from homeassistant.util.ulid import ulid_now

from .connection import EntryConnection
from .const import DOMAIN, EVENT_RUN_FINISHED
from .data import AutoTagData, ImmichAutoTagConfigEntry, RunState
from .engine.album_cache import AlbumCache
from .engine.journal import Journal, JournalWriteError
from .engine.journal_read import JournalReadError
from .engine.output_names import OutputRecord
from .engine.progress import CancelToken, Progress
from .engine.report import ErrorKind, RunReport, RunStatus
from .engine.runner import run
from .engine.undo import undo
from .immich.client import ImmichClient
from .issues import async_check_outputs, async_follow_server, async_valid_rules
from .notifications import async_notify_outcome
from .storage import MAX_STORED_REPORTS, EntryStorage
from .throttled_push import ThrottledPush

_LOGGER = logging.getLogger(__name__)
JOURNAL_DRAIN_SECONDS = 1.0  # at most this long in the loop for the last journal lines


# A run or an undo: (client, dry_run=, progress=, cancel=, album_cache=, journal=) -> report
type Job = Callable[..., Awaitable[RunReport]]


def _failed(started: datetime, dry_run: bool, kind: ErrorKind, message: str) -> RunReport:  # noqa: FBT001
    """The report of a run that failed outside the runner."""
    return RunReport(
        id=ulid_now(),
        started_at=started,
        dry_run=dry_run,
        finished_at=dt_util.utcnow(),
        status=RunStatus.FAILED,
        error_kind=kind,
        error_message=message,
    )


class AutoTagCoordinator(DataUpdateCoordinator[AutoTagData]):
    """Starts, tracks and reports runs of one entry."""

    config_entry: ImmichAutoTagConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ImmichAutoTagConfigEntry,
        connection: EntryConnection,
    ) -> None:
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=None,
        )
        self.connection = connection
        self._storage = EntryStorage(hass, entry.entry_id)
        self.reports: list[RunReport] = []
        self.album_cache = AlbumCache()
        self._task: asyncio.Task[RunReport] | None = None
        self._running = False
        self._cancel: CancelToken | None = None
        self._state = RunState.IDLE
        self._dry_run: bool | None = None
        self._progress: float | None = None
        self._pushes = ThrottledPush(hass, self._async_publish)
        self.last_run_started: datetime = dt_util.utcnow()  # the schedule counts from it
        self.new_assets: int | None = None
        self.data = self._snapshot()

    # --- lifecycle ----------------------------------------------------------------------
    async def _async_setup(self) -> None:
        """Load stored reports and the album membership cache."""
        self.config_entry.async_on_unload(self._pushes.async_cancel)
        self.reports, self.album_cache = await self._storage.async_load()
        if self.reports:
            self.last_run_started = self.reports[-1].started_at
            if self.reports[-1].status is RunStatus.FAILED:
                self._state = RunState.FAILED

    async def _async_update_data(self) -> AutoTagData:
        """Nothing to poll: the state is pushed."""
        return self._snapshot()

    @callback
    def async_stop(self) -> None:
        """Stop a running run now (unload / removal)."""
        if self._cancel is not None:
            self._cancel.cancel()
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._pushes.async_cancel()

    # --- state --------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while a run is in progress."""
        return self._running

    @property
    def last_report(self) -> RunReport | None:
        """The newest report."""
        return self.reports[-1] if self.reports else None

    def _snapshot(self) -> AutoTagData:
        complete = next(
            (
                r
                for r in reversed(self.reports)
                if r.status in (RunStatus.SUCCESS, RunStatus.PARTIAL)
            ),
            None,
        )
        return AutoTagData(
            state=self._state,
            running=self.running,
            dry_run=self._dry_run if self.running else None,
            progress=self._progress,
            last_report=self.last_report,
            last_complete_report=complete,
            new_assets=self.new_assets,
        )

    @callback
    def async_set_new_assets(self, count: int) -> None:
        """The watcher's latest count of photos uploaded since the last run."""
        if count != self.new_assets:
            self.new_assets = count
            self._pushes.async_push()

    @callback
    def _async_publish(self) -> None:
        """Hand the state to the entities (`self._pushes` decides when)."""
        self.async_set_updated_data(self._snapshot())

    @callback
    def _async_on_progress(self, progress: Progress) -> None:
        """Progress callback of the runner (called in the event loop)."""
        if not self.running:
            return
        if self._state is not RunState.CANCELLING:
            self._state = RunState(progress.phase.value)
        self._progress = progress.percent
        self._pushes.async_push_progress()

    # --- runs ---------------------------------------------------------------------------
    @callback
    def async_check_idle(self) -> None:
        """Refuse a second run (or a clean-up) while one is in progress: the action's error."""
        if self.running:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="already_running",
                translation_placeholders={"title": self.config_entry.title},
            )

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """Hold the entry's one job slot for a job that is not a run (a clean-up).

        Runs, undos, other clean-ups and the new-photos watch wait until it ends; refused
        (the action's error) while a run holds it.
        """
        self.async_check_idle()
        self._running = True
        try:
            yield
        finally:
            self._running = False

    @callback
    def async_start_run(
        self,
        *,
        dry_run: bool = False,
        asset_ids: Collection[str] | None = None,
        migrate_outputs: bool = False,
    ) -> asyncio.Task[RunReport]:
        """Start a run in the background; refuses a second one and invalid rules.

        `migrate_outputs` moves the assets off old output tags (engine/migration.py).
        """
        self.async_check_idle()
        rules = async_valid_rules(self.hass, self.config_entry)
        job = partial(
            run,
            rules=rules,
            asset_ids=asset_ids,
            output_history=self._async_output_history,
            migrate_outputs=migrate_outputs,
        )
        return self._async_start(job, dry_run=dry_run)

    @callback
    def async_start_undo(self, run_id: str, *, dry_run: bool = False) -> asyncio.Task[RunReport]:
        """Start undoing a journaled run (`last`: the newest) in the background, as a run."""
        self.async_check_idle()
        return self._async_start(partial(self._async_undo, run_id), dry_run=dry_run)

    async def _async_undo(self, run_id: str, client: ImmichClient, **options: Any) -> RunReport:
        """The undo job: the entry's journal read (in an executor), then `engine.undo`."""
        try:
            contents = await self._storage.async_read_journal()
        except JournalReadError as err:
            now = dt_util.utcnow()
            report = _failed(now, options["dry_run"], ErrorKind.INVALID_INPUT, str(err))
            report.undo_of = run_id
            return report
        return await undo(client, contents, run_id, **options)

    @callback
    def _async_start(self, job: Job, *, dry_run: bool) -> asyncio.Task[RunReport]:
        """Start `job` (a run or an undo) in the background as the entry's one run."""
        token = CancelToken()
        self._cancel = token
        self._state = RunState.LOADING
        self._progress = 0.0
        self._dry_run = dry_run
        self.last_run_started = dt_util.utcnow()
        self._running = True
        self._pushes.async_push()
        task = self.config_entry.async_create_background_task(
            self.hass,
            self._async_run(job, dry_run=dry_run, cancel=token),
            name=f"{DOMAIN} run {self.config_entry.entry_id}",
        )
        self._task = task
        return task

    @callback
    def async_cancel_run(self) -> bool:
        """Ask the current run to stop at the next safe point; False when none runs."""
        if not self.running or self._cancel is None:
            return False
        self._cancel.cancel()
        self._state = RunState.CANCELLING
        self._pushes.async_push()
        return True

    async def _async_run(self, job: Job, *, dry_run: bool, cancel: CancelToken) -> RunReport:
        started = dt_util.utcnow()
        journal_file = None
        if not dry_run:  # opened before the run: an unwritable journal stops it before any write
            try:
                journal_file = await self._storage.async_open_journal()
            except JournalWriteError as err:
                report = _failed(started, dry_run, ErrorKind.JOURNAL, str(err))
                await self._async_finish(report)
                return report
        journal = Journal(journal_file)  # each applied change is written as it is applied
        try:
            report = await job(
                self.connection.async_client(),
                dry_run=dry_run,
                progress=self._async_on_progress,
                cancel=cancel,
                album_cache=self.album_cache,
                journal=journal,
            )
        except asyncio.CancelledError:  # unload or shutdown: no await may be possible now
            if journal_file is not None:
                journal_file.stop_and_wait(JOURNAL_DRAIN_SECONDS)
            self._pushes.async_cancel()
            self._state = RunState.IDLE
            self._progress = 0.0
            self._cancel = None
            self._running = False
            raise
        except Exception as err:  # the runner should not raise; never lose the report
            _LOGGER.exception("Run of %s failed unexpectedly", self.config_entry.title)
            report = _failed(started, dry_run, ErrorKind.UNKNOWN, str(err) or type(err).__name__)
        if journal_file is not None:
            try:
                await self._storage.async_close_journal(journal_file)
            except JournalWriteError as err:
                report.status = RunStatus.FAILED
                report.error_kind = report.error_kind or ErrorKind.JOURNAL
                report.error_message = report.error_message or str(err)
        await self._async_finish(report)
        return report

    async def _async_output_history(self, _server: str, user_id: str) -> OutputRecord | None:
        """The output names the user's last real run recorded (its stored report)."""
        for report in reversed(self.reports):
            if not report.dry_run and report.output_names and report.user_id == user_id:
                return report.output_names
        return None

    async def _async_finish(self, report: RunReport) -> None:
        """Publish a finished run: state, event, reauth, storage."""
        self._cancel = None
        previous = self._snapshot().last_complete_report
        self.reports = [*self.reports, report][-MAX_STORED_REPORTS:]
        if report.newest_update and not report.dry_run:  # nothing is new since this run yet
            self.new_assets = 0
        self._state = RunState.FAILED if report.status is RunStatus.FAILED else RunState.IDLE
        # A run that did not finish leaves no progress behind (not "30 %" beside "idle").
        finished = report.status in (RunStatus.SUCCESS, RunStatus.PARTIAL)
        self._progress = 100.0 if finished else 0.0
        self._running = False
        self._pushes.async_push()
        self.hass.bus.async_fire(
            EVENT_RUN_FINISHED,
            {"config_entry_id": self.config_entry.entry_id, **report.summary()},
        )
        if report.error_kind is ErrorKind.AUTH:
            self.config_entry.async_start_reauth(self.hass)
        async_notify_outcome(self.hass, self.config_entry, report, previous)
        async_follow_server(self.hass, self.config_entry, report, self.connection.server)
        async_check_outputs(self.hass, self.config_entry, report)
        await self._storage.async_save(self.reports, self.album_cache)
