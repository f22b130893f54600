"""RunReport: what a run did (docs/engine.md#report). Plain data, JSON-ready through `to_dict()`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

MAX_ERRORS = 100
MAX_PLANNED_CHANGES = 500


class RunStatus(StrEnum):
    """Outcome of a run."""

    SUCCESS = "success"  # everything planned was applied (or planned, for a dry run)
    PARTIAL = "partial"  # finished, but some changes failed (see errors)
    FAILED = "failed"  # stopped by an error (see error_kind)
    CANCELLED = "cancelled"  # stopped by the user
    SKIPPED = "skipped"  # another run of the same Immich user was working: nothing written


class ErrorKind(StrEnum):
    """Why a run failed; drives HA reauth/repairs and the headless exit code."""

    AUTH = "auth"
    PERMISSION = "permission"
    CONNECTION = "connection"
    UNSUPPORTED_VERSION = "unsupported_version"
    INVALID_RESPONSE = "invalid_response"
    SERVER = "server"
    INVALID_INPUT = "invalid_input"  # e.g. a malformed asset id: nothing was sent
    JOURNAL = "journal"  # the journal of applied changes could not be written: applying stopped
    UNKNOWN = "unknown"


@dataclass
class ApiStats:
    """Requests the run sent."""

    requests: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)
    writes: int = 0
    retries: int = 0
    throttled_seconds: float = 0.0
    # the adaptive in-flight limit during the run: limit (at the end), min, max, mean
    concurrency: dict[str, float] = field(default_factory=dict)


@dataclass
class RunReport:
    """Everything a run reports; kept in HA storage (last 20) and printed headless."""

    id: str
    started_at: datetime
    dry_run: bool
    finished_at: datetime | None = None
    status: RunStatus = RunStatus.SUCCESS
    error_kind: ErrorKind | None = None
    error_message: str | None = None
    server_version: str | None = None
    assets_total: int = 0  # assets read
    assets_in_scope: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)  # classified/unclassified/conflict
    changes: dict[str, int] = field(default_factory=dict)  # planned (dry run) or applied, by kind
    failed_changes: dict[str, int] = field(default_factory=dict)
    ambiguous_dates: int = 0
    date_mismatches: int = 0
    duplicate_conflicts: int = 0
    repaired_after_reread: int = 0  # tag changes Immich's metadata jobs undid, re-applied
    warnings: list[dict[str, str | None]] = field(default_factory=list)
    errors: list[dict[str, str | None]] = field(default_factory=list)  # first MAX_ERRORS
    errors_total: int = 0
    api: ApiStats = field(default_factory=ApiStats)
    phase_seconds: dict[str, float] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)  # {kind, name, url}: links.py
    planned_changes: list[dict[str, Any]] = field(default_factory=list)  # dry run, capped
    planned_changes_total: int = 0
    # The newest asset `updatedAt` the snapshot read (server clock): assets uploaded after it
    # are new since this run (engine/new_assets.py). Empty when the run read no library.
    newest_update: str = ""
    # An undo (engine/undo.py): the run it reverts, the changes it left alone (first
    # MAX_ERRORS, all counted) and those already as they were before that run.
    undo_of: str | None = None
    skipped: list[dict[str, Any]] = field(default_factory=list)
    skipped_total: int = 0
    unchanged: int = 0
    user_id: str | None = None  # the API key's user (once connected)
    # Output names the library may hold after this run, by rules key (engine/output_names.py),
    # and the old output tags it found (engine/migration.py: StaleOutput.item).
    output_names: dict[str, list[str]] = field(default_factory=dict)
    output_migration: list[dict[str, Any]] = field(default_factory=list)

    @property
    def duration(self) -> float:
        """Seconds from start to finish (0 while running)."""
        if self.finished_at is None:
            return 0.0
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def changes_total(self) -> int:
        """All changes (planned or applied)."""
        return sum(self.changes.values())

    def add_error(
        self, message: str, *, asset_id: str | None = None, album_id: str | None = None
    ) -> None:
        """Record an error (kept up to MAX_ERRORS, all counted)."""
        self.errors_total += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"message": message, "asset_id": asset_id, "album_id": album_id})

    def summary(self) -> dict[str, Any]:
        """The short form: service responses and the run-finished event."""
        return {
            "id": self.id,
            "status": str(self.status),
            "dry_run": self.dry_run,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration": round(self.duration, 3),
            "error_kind": str(self.error_kind) if self.error_kind else None,
            "error_message": self.error_message,
            "assets_total": self.assets_total,
            "assets_in_scope": self.assets_in_scope,
            "status_counts": dict(self.status_counts),
            "changes": dict(self.changes),
            "changes_total": self.changes_total,
            "failed_changes": dict(self.failed_changes),
            "ambiguous_dates": self.ambiguous_dates,
            "date_mismatches": self.date_mismatches,
            "duplicate_conflicts": self.duplicate_conflicts,
            "repaired_after_reread": self.repaired_after_reread,
            "warnings_count": len(self.warnings),
            "errors_count": self.errors_total,
            "api_requests": self.api.requests,
        } | self._undo_summary()

    def _undo_summary(self) -> dict[str, Any]:
        if self.undo_of is None:
            return {}
        return {
            "undo_of": self.undo_of,
            "skipped_total": self.skipped_total,
            "unchanged": self.unchanged,
        }

    def to_dict(self) -> dict[str, Any]:
        """The whole report, JSON-ready."""
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        data["duration"] = round(self.duration, 3)
        data["status"] = str(self.status)
        data["error_kind"] = str(self.error_kind) if self.error_kind else None
        if not self.newest_update:
            del data["newest_update"]
        if self.undo_of is None:  # a rules run: no undo keys
            for key in ("undo_of", "skipped", "skipped_total", "unchanged"):
                del data[key]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunReport:
        """Rebuild a stored report (tolerant of missing keys)."""
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["started_at"] = datetime.fromisoformat(data["started_at"])
        finished = data.get("finished_at")
        fields["finished_at"] = datetime.fromisoformat(finished) if finished else None
        fields["status"] = RunStatus(data.get("status", RunStatus.SUCCESS))
        kind = data.get("error_kind")
        fields["error_kind"] = ErrorKind(kind) if kind else None
        fields["api"] = ApiStats(**data.get("api", {}))
        links = data.get("links")
        if isinstance(links, dict):  # reports stored before links were records
            fields["links"] = [{"kind": "link", "name": k, "url": v} for k, v in links.items()]
        return cls(**fields)
