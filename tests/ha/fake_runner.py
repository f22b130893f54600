"""A stand-in for `engine.runner.run`: emits progress, can be held, returns a set report."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from homeassistant.util import dt as dt_util

from custom_components.immich_autotag.engine.album_cache import AlbumCache
from custom_components.immich_autotag.engine.journal import Journal
from custom_components.immich_autotag.engine.progress import (
    CancelToken,
    Progress,
    ProgressCallback,
    RunPhase,
)
from custom_components.immich_autotag.engine.report import (
    ApiStats,
    ErrorKind,
    RunReport,
    RunStatus,
)
from custom_components.immich_autotag.engine.rules import Rules
from custom_components.immich_autotag.immich.client import ImmichClient

RUN = "custom_components.immich_autotag.coordinator.run"


@dataclass
class FakeRunner:
    """Records calls; `hold` keeps the run in the loading phase until released."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    hold: asyncio.Event | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)
    status: RunStatus = RunStatus.SUCCESS
    error_kind: ErrorKind | None = None
    raise_error: Exception | None = None
    ticks: int = 1

    async def __call__(
        self,
        client: ImmichClient,
        rules: Rules,
        *,
        dry_run: bool = False,
        asset_ids: Collection[str] | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        album_cache: AlbumCache | None = None,
        journal: Journal | None = None,
    ) -> RunReport:
        assert journal is not None
        assert progress is not None
        assert cancel is not None
        assert album_cache is not None
        self.calls.append(
            {"client": client, "rules": rules, "dry_run": dry_run, "asset_ids": asset_ids}
        )
        started = dt_util.utcnow()
        progress(Progress(RunPhase.LOADING, 0, 100))
        self.started.set()
        if self.hold is not None:
            await self.hold.wait()
        for done in range(self.ticks):
            progress(Progress(RunPhase.LOADING, done, self.ticks))
            await asyncio.sleep(0)
        if self.raise_error is not None:
            raise self.raise_error
        progress(Progress(RunPhase.PLANNING, 0, 1))
        await asyncio.sleep(0)
        status = RunStatus.CANCELLED if cancel.cancelled else self.status
        if not dry_run and status is not RunStatus.CANCELLED:
            progress(Progress(RunPhase.APPLYING, 1, 2))
            await asyncio.sleep(0)
        report = RunReport(
            id="01JRUNREPORT0000000000000",
            started_at=started,
            dry_run=dry_run,
            finished_at=started + timedelta(seconds=2.5),
            status=status,
            error_kind=self.error_kind,
            error_message="boom" if status is RunStatus.FAILED else None,
            server_version="v3.0.3",
            assets_total=12,
            assets_in_scope=10,
            status_counts={"classified": 6, "unclassified": 3, "conflict": 1},
            changes={"tag_add": 4, "album_add": 2},
            date_mismatches=2,
            duplicate_conflicts=1,
            api=ApiStats(requests=17, by_endpoint={"POST /search/metadata": 17}),
            links=[
                {
                    "kind": "albums",
                    "name": "all albums",
                    "url": "http://immich.secret.example/albums",
                }
            ],
        )
        if dry_run:
            report.planned_changes = [{"kind": "tag_add", "tag": "x", "asset_ids": ["a"]}]
            report.planned_changes_total = 6
        return report
