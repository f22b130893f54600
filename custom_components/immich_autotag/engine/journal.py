"""The journal: every change a run applies, written as it is applied, so a run can be undone.

A `Journal` collects one run's changes; with a sink (a `JournalFile`) each line goes out as it
is recorded, so a run stopped in the middle (SIGTERM, Ctrl-C, cancel, Home Assistant unloading)
leaves every change it applied in the file. The format (JSON lines, `JOURNAL_VERSION`) is
documented in docs/journal.md.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeAlias

if TYPE_CHECKING:
    from ..immich.models import Album
    from .library import Library

JOURNAL_VERSION = 1

Line: TypeAlias = dict[str, Any]
Sink: TypeAlias = Callable[[Line], None]


class JournalWriteError(OSError):
    """The journal file could not be written; the run stops applying.

    `unwritten` holds the lines that did not reach the file (changes already applied, at most
    the few in flight when the write failed), so the owner can print or log them.
    """

    def __init__(self, message: str, unwritten: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.unwritten = list(unwritten)


def discard(_line: Line) -> None:
    """The sink of a run that keeps no journal (nothing is kept in memory either)."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def old_dates(lib: Library, assets: Iterable[int]) -> dict[str, dict[str, str | None]]:
    """Each asset's capture date and exif time zone as the run read them (before a date change)."""
    table = lib.assets
    return {
        table.ids[a]: {"date": table.instants[a].isoformat(), "time_zone": table.time_zones[a]}
        for a in assets
    }


def album_record(album: Album) -> dict[str, Any]:
    """What a deleted album was: enough to create it again with its members' roles."""
    return {
        "name": album.name,
        "owner_id": album.owner_id,
        "created_at": album.created_at,
        "users": [{"user_id": u.user_id, "role": u.role} for u in album.users],
    }


class Journal:
    """One run's applied changes (kind, target, ids, old and new values), in order.

    With a sink each change goes out as it is recorded and only the count stays in memory (a
    first run of 1,000,000 assets journals ~70,000 lines); without one the lines are kept in
    `entries`. Nothing is written for a run that changes nothing: its header line goes out
    with its first change, and its end line only after a header.
    """

    def __init__(self, sink: Sink | None = None) -> None:
        self.entries: list[Line] = []  # only without a sink
        self.count = 0
        self.run_id: str | None = None
        self._sink = sink
        self._meta: Line = {}
        self._opened = False
        self._ended = False

    def begin(self, run_id: str, **meta: Any) -> None:
        """Name the run the following changes belong to (server, user, start time...)."""
        self.run_id = run_id
        self._meta = meta

    def annotate(self, **meta: Any) -> None:
        """Add to the run's header line; no effect once it is written (at the first change)."""
        if not self._opened:
            self._meta.update(meta)

    def record(self, kind: str, target: str | None, ids: Iterable[str], **extra: Any) -> None:
        """One applied change (or, with `uncertain=True`, one that may have been applied)."""
        entry = {
            "run": self.run_id,
            "seq": self.count + 1,
            "at": _now(),
            "kind": kind,
            "target": target,
            "ids": list(ids),
            **extra,
        }
        self.count += 1
        if self._sink is None:
            self.entries.append(entry)
        else:
            if not self._opened:
                self._opened = True
                self._sink({"journal": JOURNAL_VERSION, "run": self.run_id, **self._meta})
            self._sink(entry)

    def end(self, status: str, **meta: Any) -> None:
        """Close the run's record with its outcome (only if it recorded a change)."""
        if self._sink is None or not self._opened or self._ended:
            return
        self._ended = True
        self._sink(
            {
                "run": self.run_id,
                "end": status,
                "finished_at": _now(),
                "changes": self.count,
                **meta,
            }
        )


class JournalFile:
    """A JSON-lines file appended by a writer thread, so recording never blocks the event loop.

    Opening it creates its folder and opens the file for appending: a path that cannot be
    written fails here, before a run applies anything. Each line is flushed when written.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: TextIO = path.open("a", encoding="utf-8")
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._error: OSError | None = None
        self._unwritten: list[str] = []  # from the first failed write on
        self._lock = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(
            target=self._write_lines, name=f"journal {path.name}", daemon=True
        )
        self._thread.start()

    def __call__(self, line: Line) -> None:
        """Queue one line (raises JournalWriteError once a write has failed).

        The line is kept either way: after a failure it joins the unwritten lines.
        """
        text = json.dumps(line, ensure_ascii=False, default=str)
        with self._lock:
            if self._error is not None:
                self._unwritten.append(text)
                raise self._write_error()
        self._queue.put(text)

    def _write_error(self) -> JournalWriteError:
        return JournalWriteError(
            f"cannot write the journal {self.path}: {self._error}"
            f" ({len(self._unwritten)} line(s) not written)",
            self._unwritten,
        )

    def _write_lines(self) -> None:
        for text in iter(self._queue.get, None):
            with self._lock:
                if self._error is not None:
                    self._unwritten.append(text)
                    continue
            try:
                self._file.write(text + "\n")
                self._file.flush()
            except OSError as err:
                with self._lock:
                    self._error = err
                    self._unwritten.append(text)
        try:
            self._file.close()
        except OSError as err:
            self._error = self._error or err

    def stop(self) -> None:
        """Let the writer write the queued lines and close the file (does not wait)."""
        if not self._stopped:
            self._stopped = True
            self._queue.put(None)

    def stop_and_wait(self, timeout: float) -> None:
        """Stop and give the writer up to `timeout` seconds to write the queued lines.

        For a caller that is being cancelled and cannot wait in an executor: the lines queued
        so far are a handful, written in microseconds; the thread finishes them regardless.
        """
        self.stop()
        self._thread.join(timeout)

    def close(self) -> None:
        """Write every queued line and close the file (blocks; raises a write error)."""
        self.stop()
        self._thread.join()
        if self._error is not None:
            raise self._write_error()
