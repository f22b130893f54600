"""A run's step for old output tags (`migration.py`): found, planned or moved, reported.

Found after the plan (from the snapshot's tag list and one search per old tag); a dry run
asked to migrate lists the moves first; a real run moves them after its own changes, so the
new tag is on the assets before the old one goes. A run for given assets never migrates.
"""

from __future__ import annotations

from collections.abc import Collection

from ..immich.client import ImmichClient
from ..immich.models import ServerInfo
from .journal import Journal
from .library import Library
from .migration import PLANNED, Migration, apply_migration, plan_migration
from .output_names import DEFAULT_OUTPUTS, OutputHistory
from .permissions import Capabilities
from .progress import CancelToken
from .report import RunReport
from .rules import Rules

MIGRATE_FOCUSED = "old output tags are moved only by a run of the whole library (migrate_outputs)"


def _note(message: str, kind: str = "renamed_output") -> dict[str, str | None]:
    return {"kind": kind, "message": message, "asset_id": None, "album_id": None}


def _add(changes: dict[str, int], more: dict[str, int]) -> None:
    for kind, n in more.items():
        changes[kind] = changes.get(kind, 0) + n


class OutputStep:
    """Where the run finds the earlier output names, and whether it migrates old ones."""

    def __init__(self, report: RunReport, history: OutputHistory | None, *, migrate: bool) -> None:
        self.report = report
        self.history = history
        self.migrate = migrate
        self.migration: Migration | None = None
        self.notes: list[dict[str, str | None]] = []

    async def find(
        self,
        client: ImmichClient,
        rules: Rules,
        lib: Library,
        info: ServerInfo,
        caps: Capabilities,
        *,
        journal: Journal | None,
        asset_ids: Collection[str] | None,
    ) -> None:
        """Find the stale outputs (nothing without a history) and record the names.

        The record (in the report, and the journal's header) keeps every old name found until
        `finish` knows which were moved: a run that stops in between forgets none.
        """
        if self.history is None:
            return
        previous = await self.history(client.web_url, info.user.id)
        lacking = sorted(p for p in ("tag.asset", "tag.delete") if not caps.allows(p))
        can_write = f"the API key lacks {', '.join(lacking)}" if lacking else None
        self.migration = await plan_migration(
            client,
            DEFAULT_OUTPUTS if previous is None else previous,
            rules,
            lib.tags,
            can_write=can_write,
        )
        self.report.output_names = self.migration.record()
        if journal is not None:
            journal.annotate(outputs=self.report.output_names)
        if self.migrate and asset_ids is not None:  # whole tags go: only in a full run
            self.migrate = False
            self.notes = [_note(MIGRATE_FOCUSED, "migrate_outputs_skipped")]

    def plan(self, web_url: str) -> None:
        """A dry run asked to migrate: the moves head the listing and join the counts."""
        if self.migration is None or not self.migrate:
            return
        report = self.report
        self.migration.mark(PLANNED)
        report.planned_changes[:0] = self.migration.describe(web_url)
        _add(report.changes, self.migration.counts())

    @property
    def writes(self) -> bool:
        """A real run would move old tags (it then takes the run lease for them too)."""
        return self.migration is not None and self.migrate and bool(self.migration.movable())

    async def apply(
        self, client: ImmichClient, journal: Journal | None, cancel: CancelToken
    ) -> None:
        """A real run asked to migrate: move the old tags (after the run's own changes)."""
        if self.migration is None or not self.migrate:
            return
        cancel.check()
        _add(self.report.changes, await apply_migration(client, self.migration, journal))

    def finish(self, web_url: str) -> None:
        """The report's record of the output names and of the stale outputs (warnings)."""
        report = self.report
        report.warnings.extend(self.notes)
        if self.migration is None:
            return
        report.output_names = self.migration.record()
        report.output_migration = [s.item(web_url) for s in self.migration.stale]
        report.warnings.extend(_note(s.message()) for s in self.migration.stale)
