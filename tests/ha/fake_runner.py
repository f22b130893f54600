"""A stand-in for `engine.runner.run`: emits progress, can be held, returns a set report.

It is patched in with `create_autospec(run)`, so the coordinator must call it exactly as it
calls the real runner; the report's changes come from a real `Plan` over a real `Library`
(`Plan.counts` and `Plan.describe`), so responses have the shapes the product sends
(`tests/ha/test_fakes.py` compares it with a real run).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice
from typing import Any
from unittest.mock import create_autospec, patch

from homeassistant.util import dt as dt_util

from custom_components.immich_autotag.engine.album_cache import AlbumCache
from custom_components.immich_autotag.engine.journal import Journal
from custom_components.immich_autotag.engine.library import Library
from custom_components.immich_autotag.engine.links import with_urls
from custom_components.immich_autotag.engine.output_names import OutputHistory
from custom_components.immich_autotag.engine.plan import Plan
from custom_components.immich_autotag.engine.progress import (
    CancelToken,
    Progress,
    ProgressCallback,
    RunPhase,
)
from custom_components.immich_autotag.engine.report import (
    MAX_PLANNED_CHANGES,
    ApiStats,
    ErrorKind,
    RunReport,
    RunStatus,
)
from custom_components.immich_autotag.engine.rules import Rules
from custom_components.immich_autotag.engine.runner import run
from custom_components.immich_autotag.engine.verify import VerifyPolicy
from custom_components.immich_autotag.immich.client import ImmichClient
from tests.engine.builders import LibraryBuilder


def scripted_plan() -> tuple[Library, Plan]:
    """Four assets to tag `x`, two to add to the album `Trip`: six changes."""
    builder = LibraryBuilder()
    assets = [builder.asset(f"IMG_{n:04d}.jpg") for n in range(4)]
    trip = builder.album("Trip")
    lib = builder.build()
    plan = Plan(tag_adds={"x": frozenset(assets)}, album_adds={trip: frozenset(assets[:2])})
    return lib, plan


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
        verify: VerifyPolicy | None = None,  # noqa: ARG002 - nothing to verify here
        output_history: OutputHistory | None = None,
        migrate_outputs: bool = False,
    ) -> RunReport:
        assert journal is not None
        assert progress is not None
        assert cancel is not None
        assert album_cache is not None
        self.calls.append(
            {
                "client": client,
                "rules": rules,
                "dry_run": dry_run,
                "asset_ids": asset_ids,
                "migrate_outputs": migrate_outputs,
                "output_history": output_history,
            }
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
        lib, plan = scripted_plan()
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
            changes=plan.counts(),
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
        if dry_run:  # as the runner fills a dry run's report
            listing = islice(plan.describe(lib), MAX_PLANNED_CHANGES)
            report.planned_changes = with_urls(client.web_url, listing)
            report.planned_changes_total = report.changes_total
        return report


def install(runner: FakeRunner) -> Any:
    """Patch the coordinator's runner with `runner`, checked against the real signature."""
    return patch(RUN, create_autospec(run, side_effect=runner.__call__))
