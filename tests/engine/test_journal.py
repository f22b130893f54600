"""Journal lines: header with the first change, run id and order on every line, the end line;
the file is written as changes are recorded, and a file that cannot be written says so."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from custom_components.immich_autotag.engine.journal import (
    JOURNAL_VERSION,
    Journal,
    JournalFile,
    JournalWriteError,
)


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_lines_carry_the_run_in_order() -> None:
    out: list[dict[str, Any]] = []
    journal = Journal(out.append)
    journal.begin("run-1", server="http://immich", user_id="me")
    assert out == []  # nothing until a change is applied
    journal.record("tag_add", "a", ["x", "y"], tag_id="t1")
    journal.record("tag_remove", "b", ["x"], tag_id="t2")
    journal.end("success", failed_changes={})
    header, first, second, end = out
    assert header == {
        "journal": JOURNAL_VERSION,
        "run": "run-1",
        "server": "http://immich",
        "user_id": "me",
    }
    assert (first["run"], first["seq"], first["kind"], first["ids"]) == (
        "run-1",
        1,
        "tag_add",
        ["x", "y"],
    )
    assert (second["seq"], second["tag_id"]) == (2, "t2")
    assert end["run"] == "run-1"
    assert (end["end"], end["changes"]) == ("success", 2)
    assert (journal.count, journal.entries) == (2, [])  # with a sink only the count is kept


def test_a_run_without_changes_leaves_no_line() -> None:
    out: list[dict[str, Any]] = []
    journal = Journal(out.append)
    journal.begin("run-2")
    journal.end("success")
    assert out == []


def test_the_file_is_written_as_changes_are_recorded(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "journal.jsonl"
    journal_file = JournalFile(path)  # creates the folder
    journal = Journal(journal_file)
    journal.begin("run-3")
    journal.record("album_add", "Trip", ["x"], album_id="a1")
    deadline = time.monotonic() + 5
    while path.read_text().count("\n") < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [line.get("kind") for line in lines_of(path)] == [None, "album_add"]  # before close
    journal.end("success")
    journal_file.close()
    assert lines_of(path)[-1]["end"] == "success"
    JournalFile(path).close()  # appending keeps earlier runs
    assert len(lines_of(path)) == 3


def test_an_unwritable_path_fails_on_open(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError):
        JournalFile(blocker / "journal.jsonl")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a full disk)")
def test_a_failing_write_stops_the_recording() -> None:
    journal_file = JournalFile(Path("/dev/full"))
    journal = Journal(journal_file)
    journal.begin("run-4")
    journal.record("tag_add", "a", ["x"])
    deadline = time.monotonic() + 5
    with pytest.raises(JournalWriteError, match="No space"):  # noqa: PT012
        while time.monotonic() < deadline:
            journal.record("tag_add", "a", ["y"])
            time.sleep(0.01)
    with pytest.raises(JournalWriteError) as closed:
        journal_file.close()
    # Nothing recorded is lost: what the file did not take is handed back, in order.
    unwritten = [json.loads(line) for line in closed.value.unwritten]
    written = journal.count - sum("seq" in line for line in unwritten)
    assert [line["seq"] for line in unwritten if "seq" in line] == list(
        range(written + 1, journal.count + 1)
    )
    assert written == 0  # /dev/full takes nothing: every line comes back, the header first
    assert unwritten[0] == {"journal": JOURNAL_VERSION, "run": "run-4"}
