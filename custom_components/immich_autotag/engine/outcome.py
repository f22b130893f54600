"""A run's outcome in words: its result at a glance, readable change names, one-line summary.

Shared by Home Assistant (result sensor, logbook, notifications) and the headless report, so
a dry run and a real run never read alike: a dry run's changes are always "planned".
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from .report import RunReport, RunStatus


class RunResult(StrEnum):
    """Mode and outcome of a finished run, in one value."""

    APPLIED = "applied"  # a real run that applied everything it planned
    PARTIAL = "partial"  # a real run where some changes failed
    FAILED = "failed"
    CANCELLED = "cancelled"
    DRY_RUN = "dry_run"  # a dry run that planned its changes (nothing was written)
    DRY_RUN_FAILED = "dry_run_failed"
    DRY_RUN_CANCELLED = "dry_run_cancelled"
    SKIPPED = "skipped"  # another run was working on the same account: nothing written


_REAL = {
    RunStatus.SUCCESS: RunResult.APPLIED,
    RunStatus.PARTIAL: RunResult.PARTIAL,
    RunStatus.FAILED: RunResult.FAILED,
    RunStatus.CANCELLED: RunResult.CANCELLED,
    RunStatus.SKIPPED: RunResult.SKIPPED,
}
_DRY = {
    RunStatus.SUCCESS: RunResult.DRY_RUN,
    RunStatus.PARTIAL: RunResult.DRY_RUN,  # a dry run writes nothing, so nothing can fail
    RunStatus.FAILED: RunResult.DRY_RUN_FAILED,
    RunStatus.CANCELLED: RunResult.DRY_RUN_CANCELLED,
    RunStatus.SKIPPED: RunResult.SKIPPED,  # dry runs take no lease; kept total
}

# Change kinds of `Plan.counts()` (and the migration's) in words, for people.
CHANGE_NAMES: dict[str, str] = {
    "tag_create": "tags created",
    "tag_add": "tags added to assets",
    "tag_remove": "tags removed from assets",
    "tag_delete": "tags deleted",
    "tag_migrate": "assets moved to a renamed output tag",
    "album_create": "albums created",
    "album_add": "assets added to albums",
    "album_remove": "assets removed from albums",
    "album_delete": "albums deleted",
    "date_set": "capture dates corrected",
    "date_rezone": "dates re-zoned from naive EXIF",
    "album_user_add": "album members added",
    "album_user_update": "album member roles changed",
    "album_user_remove": "album members removed",
}


def run_result(report: RunReport) -> RunResult:
    """The report's mode and outcome as one value."""
    return result_of(report.status, dry_run=report.dry_run)


def result_of(status: RunStatus | str, *, dry_run: bool) -> RunResult:
    """Mode and outcome from a status (a `RunStatus` or its value) and the mode."""
    return (_DRY if dry_run else _REAL)[RunStatus(status)]


def change_name(kind: str) -> str:
    """A change kind in words (the kind itself when unknown)."""
    return CHANGE_NAMES.get(kind, kind.replace("_", " "))


def readable_changes(changes: Mapping[str, int]) -> dict[str, int]:
    """Changes by kind, keyed by their readable names (order kept)."""
    return {change_name(kind): count for kind, count in changes.items()}


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def describe(report: RunReport) -> str:
    """One line: what the run did, e.g. "applied 5,026 changes, 0 failed, 12 conflicts"."""
    return describe_summary(report.summary())


def describe_summary(summary: Mapping[str, Any]) -> str:
    """The same line from `RunReport.summary()` (the run-finished event's data)."""
    result = result_of(
        summary.get("status", RunStatus.SUCCESS), dry_run=bool(summary.get("dry_run"))
    )
    changes = _n(int(summary.get("changes_total") or 0), "change")
    conflicts = _n(int((summary.get("status_counts") or {}).get("conflict", 0)), "conflict")
    failed = sum((summary.get("failed_changes") or {}).values())
    error = summary.get("error_message") or summary.get("error_kind") or "unknown error"
    texts = {
        RunResult.APPLIED: f"applied {changes}, 0 failed, {conflicts}",
        RunResult.PARTIAL: f"partly applied: {changes}, {failed:,} failed, {conflicts}",
        RunResult.FAILED: f"failed after {changes}: {error}",
        RunResult.CANCELLED: f"cancelled after {changes}",
        RunResult.DRY_RUN: f"dry run: {changes} planned, nothing written, {conflicts}",
        RunResult.DRY_RUN_FAILED: f"dry run failed: {error}",
        RunResult.DRY_RUN_CANCELLED: "dry run cancelled, nothing written",
        RunResult.SKIPPED: "skipped: another run was working on this account, nothing written",
    }
    return texts[result]
