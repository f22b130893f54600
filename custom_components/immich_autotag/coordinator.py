"""The run manager of one config entry: single-flight runs, progress, reports, schedule.

State is pushed to entities through a `DataUpdateCoordinator` without polling
(`update_interval=None`). Runs are background tasks of the config entry, so unloading the
entry or stopping Home Assistant cancels them. Options (rules, limits, interval) are read at
the start of every run: changing them needs no reload.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_URL
from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.helpers.storage import STORAGE_DIR, Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util
from homeassistant.util.ulid import ulid_now

from .connection import LIMITERS, Limits, build_client, entry_limits
from .const import (
    CONF_RULES,
    CONF_RUN_INTERVAL,
    DEFAULT_RUN_INTERVAL,
    DOMAIN,
    EVENT_RUN_FINISHED,
)
from .engine.album_cache import AlbumCache
from .engine.default_rules import default_rules_yaml
from .engine.journal import Journal
from .engine.progress import CancelToken, Progress
from .engine.report import ErrorKind, RunReport, RunStatus
from .engine.rules import Rules
from .engine.rules_loader import validate_rules_text
from .engine.runner import run
from .immich.client import ImmichClient
from .immich.limiter import Limiter
from .immich.models import ServerInfo

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
MAX_STORED_REPORTS = 20
PROGRESS_INTERVAL = 1.0  # seconds between progress pushes (SPEC §3: at most once per second)
SCHEDULE_TICK = timedelta(minutes=1)

ISSUE_INVALID_RULES = "invalid_rules"
ISSUE_MISSING_PERMISSIONS = "missing_permissions"
ISSUE_UNSUPPORTED_VERSION = "unsupported_version"


class RunState(StrEnum):
    """What the status sensor shows."""

    IDLE = "idle"
    LOADING = "loading"
    PLANNING = "planning"
    APPLYING = "applying"
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True)
class AutoTagData:
    """The state entities read (pushed on every change, progress at most once a second)."""

    state: RunState
    running: bool
    dry_run: bool | None  # of the run in progress
    progress: float | None  # percent
    last_report: RunReport | None
    last_complete_report: RunReport | None  # last run that read the library to the end


@dataclass(kw_only=True)
class ImmichAutoTagRuntimeData:
    """What a loaded entry holds."""

    server: ServerInfo
    coordinator: AutoTagCoordinator


type ImmichAutoTagConfigEntry = ConfigEntry[ImmichAutoTagRuntimeData]


def issue_id(kind: str, entry_id: str) -> str:
    """Repair issue id of one entry."""
    return f"{kind}_{entry_id}"


def rules_text(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """The rules YAML of an entry (the default rules, in HA's time zone, when none saved)."""
    return str(entry.options.get(CONF_RULES) or default_rules_yaml(hass.config.time_zone))


def _stores(
    hass: HomeAssistant, entry_id: str
) -> tuple[Store[dict[str, Any]], Store[dict[str, Any]]]:
    """(reports store, album cache store) of an entry."""
    return (
        Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.reports"),
        Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.album_cache"),
    )


def journal_path(hass: HomeAssistant, entry_id: str) -> Path:
    """Where an entry's journal of applied changes is appended (JSON lines)."""
    return Path(hass.config.path(STORAGE_DIR, f"{DOMAIN}.{entry_id}.journal.jsonl"))


async def async_remove_stored_data(hass: HomeAssistant, entry_id: str) -> None:
    """Forget the stored reports, album cache and journal of a removed entry."""
    for store in _stores(hass, entry_id):
        await store.async_remove()
    await hass.async_add_executor_job(
        functools.partial(journal_path(hass, entry_id).unlink, missing_ok=True)
    )


class AutoTagCoordinator(DataUpdateCoordinator[AutoTagData]):
    """Starts, tracks and reports runs of one entry."""

    config_entry: ImmichAutoTagConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ImmichAutoTagConfigEntry,
        client: ImmichClient,
        server: ServerInfo,
    ) -> None:
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=None,
        )
        self.client = client
        self.server = server
        self.limiter: Limiter | None = None
        self._limits: Limits = entry_limits(entry)
        self._reports_store, self._cache_store = _stores(hass, entry.entry_id)
        self.reports: list[RunReport] = []
        self.album_cache = AlbumCache()
        self._task: asyncio.Task[RunReport] | None = None
        self._running = False
        self._cancel: CancelToken | None = None
        self._state = RunState.IDLE
        self._dry_run: bool | None = None
        self._progress: float | None = None
        self._last_push = -math.inf
        self._pending_push: CALLBACK_TYPE | None = None
        self._last_run_started: datetime = dt_util.utcnow()
        self.data = self._snapshot()

    # --- lifecycle ----------------------------------------------------------------------
    async def _async_setup(self) -> None:
        """Load stored reports and the album membership cache."""
        stored = await self._reports_store.async_load() or {}
        for item in stored.get("reports", []):
            try:
                self.reports.append(RunReport.from_dict(item))
            except (KeyError, TypeError, ValueError):
                _LOGGER.debug("Skipping an unreadable stored report")
        self.reports = self.reports[-MAX_STORED_REPORTS:]
        self.album_cache = AlbumCache.from_dict(await self._cache_store.async_load())
        if self.reports:
            self._last_run_started = self.reports[-1].started_at
            if self.reports[-1].status is RunStatus.FAILED:
                self._state = RunState.FAILED

    async def _async_update_data(self) -> AutoTagData:
        """Nothing to poll: the state is pushed."""
        return self._snapshot()

    @callback
    def async_start_schedule(self) -> None:
        """Check every minute whether an automatic run is due (interval read each time)."""
        self.config_entry.async_on_unload(
            async_track_time_interval(
                self.hass,
                self._async_schedule_tick,
                SCHEDULE_TICK,
                name=f"{DOMAIN} schedule",
                cancel_on_shutdown=True,
            )
        )
        self.config_entry.async_on_unload(self._async_cancel_pending_push)

    @callback
    def async_stop(self) -> None:
        """Stop a running run now (unload / removal)."""
        if self._cancel is not None:
            self._cancel.cancel()
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._async_cancel_pending_push()

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
        )

    @callback
    def _async_push(self) -> None:
        self._async_cancel_pending_push()
        self._last_push = self.hass.loop.time()
        self.async_set_updated_data(self._snapshot())

    @callback
    def _async_cancel_pending_push(self) -> None:
        if self._pending_push is not None:
            self._pending_push()
            self._pending_push = None

    @callback
    def _async_flush_push(self, _now: datetime) -> None:
        self._pending_push = None
        self._async_push()

    def _on_progress(self, progress: Progress) -> None:
        """Progress callback of the runner; may be called from a worker thread."""
        if threading.get_ident() != self.hass.loop_thread_id:
            self.hass.loop.call_soon_threadsafe(self._async_on_progress, progress)
            return
        self._async_on_progress(progress)

    @callback
    def _async_on_progress(self, progress: Progress) -> None:
        if not self.running:
            return
        self._state = RunState(progress.phase.value)
        self._progress = progress.percent
        wait = self._last_push + PROGRESS_INTERVAL - self.hass.loop.time()
        if wait <= 0:
            self._async_push()
        elif self._pending_push is None:
            self._pending_push = async_call_later(
                self.hass, wait, HassJob(self._async_flush_push, cancel_on_shutdown=True)
            )

    # --- rules and limits ---------------------------------------------------------------
    @callback
    def async_check_rules(self) -> tuple[Rules | None, str]:
        """Parse the rules; keep the `invalid_rules` repair issue in step."""
        rules, error = validate_rules_text(rules_text(self.hass, self.config_entry))
        iid = issue_id(ISSUE_INVALID_RULES, self.config_entry.entry_id)
        if error is not None or rules is None:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                iid,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_INVALID_RULES,
                translation_placeholders={
                    "title": self.config_entry.title,
                    "error": str(error),
                },
            )
            return None, str(error)
        ir.async_delete_issue(self.hass, DOMAIN, iid)
        return rules, ""

    @callback
    def _async_client_for_run(self) -> ImmichClient:
        """The client to use; rebuilt when the limits in the options changed."""
        url = self.config_entry.data[CONF_URL]
        limiters = self.hass.data.setdefault(LIMITERS, {})
        limits = entry_limits(self.config_entry)
        shared = limiters.get(url)
        if limits != self._limits or shared is None:
            # This entry's options changed: its limits now apply to the whole server.
            shared = limiters[url] = Limiter(limits[0], limits[1])
            self._limits = limits
        if shared is not self.limiter:
            self.limiter = shared
            client = build_client(self.hass, self.config_entry, shared)
            client.set_version(self.server.version)
            self.client = client
        return self.client

    # --- runs ---------------------------------------------------------------------------
    @callback
    def async_start_run(
        self, *, dry_run: bool = False, asset_ids: Collection[str] | None = None
    ) -> asyncio.Task[RunReport]:
        """Start a run in the background; refuses a second one and invalid rules."""
        title = self.config_entry.title
        if self.running:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="already_running",
                translation_placeholders={"title": title},
            )
        rules, error = self.async_check_rules()
        if rules is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_rules",
                translation_placeholders={"title": title, "error": error},
            )
        token = CancelToken()
        self._cancel = token
        self._state = RunState.LOADING
        self._progress = 0.0
        self._dry_run = dry_run
        self._last_run_started = dt_util.utcnow()
        self._running = True
        self._async_push()
        task = self.config_entry.async_create_background_task(
            self.hass,
            self._async_run(rules, dry_run=dry_run, asset_ids=asset_ids, cancel=token),
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
        return True

    async def _async_run(
        self,
        rules: Rules,
        *,
        dry_run: bool,
        asset_ids: Collection[str] | None,
        cancel: CancelToken,
    ) -> RunReport:
        started = dt_util.utcnow()
        journal = Journal()
        try:
            client = self._async_client_for_run()
            report = await run(
                client,
                rules,
                dry_run=dry_run,
                asset_ids=asset_ids,
                progress=self._on_progress,
                cancel=cancel,
                album_cache=self.album_cache,
                journal=journal,
            )
        except asyncio.CancelledError:
            self._async_cancel_pending_push()
            self._state = RunState.IDLE
            self._cancel = None
            self._running = False
            raise
        except Exception as err:  # the runner should not raise; never lose the report
            _LOGGER.exception("Run of %s failed unexpectedly", self.config_entry.title)
            report = RunReport(
                id=ulid_now(),
                started_at=started,
                dry_run=dry_run,
                finished_at=dt_util.utcnow(),
                status=RunStatus.FAILED,
                error_kind=ErrorKind.UNKNOWN,
                error_message=str(err) or type(err).__name__,
            )
        if journal.entries:  # every applied change, for audit and revert (SPEC §6)
            try:
                await self.hass.async_add_executor_job(
                    journal.write_jsonl,
                    journal_path(self.hass, self.config_entry.entry_id),
                    {"id": report.id, "started_at": report.started_at.isoformat()},
                )
            except OSError as err:
                _LOGGER.warning("Could not write the journal of run %s: %s", report.id, err)
        await self._async_finish(report)
        return report

    async def _async_finish(self, report: RunReport) -> None:
        """Publish a finished run: state, event, reauth, storage."""
        self._cancel = None
        self.reports = [*self.reports, report][-MAX_STORED_REPORTS:]
        if report.status is RunStatus.FAILED:
            self._state = RunState.FAILED
        else:
            self._state = RunState.IDLE
            if report.status is not RunStatus.CANCELLED:
                self._progress = 100.0
        self._running = False
        self._async_push()
        self.hass.bus.async_fire(
            EVENT_RUN_FINISHED,
            {"config_entry_id": self.config_entry.entry_id, **report.summary()},
        )
        if report.error_kind is ErrorKind.AUTH:
            self.config_entry.async_start_reauth(self.hass)
        await self._reports_store.async_save({"reports": [r.to_dict() for r in self.reports]})
        await self._cache_store.async_save(self.album_cache.to_dict())

    @callback
    def _async_schedule_tick(self, now: datetime) -> None:
        """Start an automatic run when the interval from the options has passed."""
        interval = int(self.config_entry.options.get(CONF_RUN_INTERVAL, DEFAULT_RUN_INTERVAL))
        if interval <= 0 or self.running:
            return
        if now - self._last_run_started < timedelta(minutes=interval):
            return
        try:
            self.async_start_run()
        except ServiceValidationError as err:
            self._last_run_started = now  # do not retry every minute
            _LOGGER.warning("Automatic run of %s skipped: %s", self.config_entry.title, err)
