"""Reading a journal back: its runs, each with its start line, change lines and end line.

The format (docs/journal.md) is JSON lines appended by `journal.Journal`. Several runs, servers
and users share one file, and a run killed outright has no end line. Reading is tolerant: a
line that is not a JSON object (a line cut by a power loss) is counted and skipped; keys this
version does not know are ignored. A start line of a newer format version is an error, since
its lines may mean something this version cannot undo correctly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .journal import JOURNAL_VERSION, Line

LAST = "last"


class JournalReadError(ValueError):
    """The journal cannot be read, or holds no run that fits (the message says which)."""


@dataclass
class JournalRun:
    """One run's lines: the start line (`header`), its changes in order, the end line."""

    id: str
    header: Line = field(default_factory=dict)
    changes: list[Line] = field(default_factory=list)
    end: Line | None = None

    @property
    def server(self) -> str | None:
        """The Immich web URL the run wrote to."""
        value = self.header.get("server")
        return value if isinstance(value, str) else None

    @property
    def user_id(self) -> str | None:
        """The key's user the run wrote as."""
        value = self.header.get("user_id")
        return value if isinstance(value, str) else None

    @property
    def undoes(self) -> str | None:
        """The run this run undid (an undo run), else None."""
        value = self.header.get("undoes")
        return value if isinstance(value, str) else None

    @property
    def status(self) -> str | None:
        """How the run ended (`success`, `partial`, ...); None when it has no end line."""
        return None if self.end is None else str(self.end.get("end"))

    def summary(self) -> dict[str, Any]:
        """The run as a short record (for listings and responses)."""
        return {
            "run_id": self.id,
            "started_at": self.header.get("started_at"),
            "finished_at": None if self.end is None else self.end.get("finished_at"),
            "status": self.status,
            "changes": len(self.changes),
            "undoes": self.undoes,
        }


@dataclass
class JournalContents:
    """Every run of a journal in the order they started, and the lines skipped."""

    runs: list[JournalRun]
    skipped_lines: int = 0

    def select(self, run_id: str, server: str, user_id: str) -> JournalRun:
        """The run `run_id` (or the newest run, for `last`) made on `server` as `user_id`.

        Raises JournalReadError naming why no run fits (unknown id, another server or user).
        """
        if run_id == LAST:
            mine = [r for r in self.runs if r.server == server and r.user_id == user_id]
            if not mine:
                raise JournalReadError(
                    f"the journal holds no applied run of this user on {server}"
                    if self.runs
                    else "the journal holds no applied run"
                )
            return mine[-1]
        found = next((r for r in self.runs if r.id == run_id), None)
        if found is None:
            raise JournalReadError(f"run {run_id} is not in the journal")
        if found.server != server:
            raise JournalReadError(f"run {run_id} was made on {found.server}, not on {server}")
        if found.user_id != user_id:
            raise JournalReadError(f"run {run_id} was made by another user than the API key's")
        return found


def parse_lines(lines: Iterable[str]) -> JournalContents:
    """The runs of a journal's lines (see the module docstring)."""
    runs: dict[str, JournalRun] = {}
    skipped = 0
    for text in lines:
        if not text.strip():
            continue
        try:
            line = json.loads(text)
        except ValueError:
            skipped += 1
            continue
        if not isinstance(line, dict) or not isinstance(line.get("run"), str):
            skipped += 1
            continue
        run_id: str = line["run"]
        if "journal" in line:
            version = line["journal"]
            if not isinstance(version, int) or version > JOURNAL_VERSION:
                raise JournalReadError(
                    f"run {run_id} is journaled in format {version}; this version reads "
                    f"format {JOURNAL_VERSION} and older"
                )
            runs.setdefault(run_id, JournalRun(run_id)).header = line
        elif "kind" in line:
            runs.setdefault(run_id, JournalRun(run_id)).changes.append(line)
        elif "end" in line:
            runs.setdefault(run_id, JournalRun(run_id)).end = line
        else:
            skipped += 1
    ordered = [r for r in runs.values() if r.changes and r.header]
    for run in ordered:
        run.changes.sort(key=_seq)
    return JournalContents(ordered, skipped)


def _seq(line: Line) -> int:
    seq = line.get("seq")
    return seq if isinstance(seq, int) else 0


def read_journal(path: Path) -> JournalContents:
    """Read a journal file (blocking: call it in a worker thread from the event loop)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as file:
            return parse_lines(file)
    except FileNotFoundError as err:
        raise JournalReadError(f"no journal at {path}: no run was applied yet") from err
    except OSError as err:
        raise JournalReadError(f"cannot read the journal {path}: {err.strerror or err}") from err
