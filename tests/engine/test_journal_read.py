"""Reading a journal back: runs, tolerance of damaged lines, versions, picking a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from custom_components.immich_autotag.engine.journal import Journal
from custom_components.immich_autotag.engine.journal_read import (
    LAST,
    JournalReadError,
    parse_lines,
    read_journal,
)

SERVER, ME, OTHER = "http://immich:2283", "u-me", "u-other"


def run_lines(run_id: str, user: str = ME, server: str = SERVER, changes: int = 1) -> list[str]:
    lines: list[str] = []
    journal = Journal(lambda line: lines.append(json.dumps(line)))
    journal.begin(run_id, started_at="2026-01-01T00:00:00+00:00", server=server, user_id=user)
    for n in range(changes):
        journal.record("tag_add", "t", [f"a{n}"], tag_id="t1", new_links=1)
    journal.end("success")
    return lines


def test_runs_in_order_with_their_changes_and_end() -> None:
    contents = parse_lines([*run_lines("r1", changes=2), *run_lines("r2")])
    assert [r.id for r in contents.runs] == ["r1", "r2"]
    first = contents.runs[0]
    assert [c["seq"] for c in first.changes] == [1, 2]
    assert first.status == "success"
    assert first.summary()["changes"] == 2
    assert contents.select(LAST, SERVER, ME).id == "r2"


def test_damaged_lines_are_skipped_and_counted() -> None:
    lines = run_lines("r1")
    cut = lines[1][: len(lines[1]) // 2]  # a line cut by a power loss
    contents = parse_lines([lines[0], cut, "[1, 2]", "", '{"run": "r1", "x": 1}', lines[2]])
    assert contents.skipped_lines == 3
    assert contents.runs == []  # its only change was lost: nothing to undo
    killed = parse_lines(run_lines("r2")[:-1])  # SIGKILL: no end line
    assert killed.runs[0].status is None


def test_a_newer_format_is_refused() -> None:
    head, *rest = run_lines("r1")
    newer = json.dumps({**json.loads(head), "journal": 99})
    with pytest.raises(JournalReadError, match="format 99"):
        parse_lines([newer, *rest])


def test_select_checks_server_and_user() -> None:
    contents = parse_lines(
        [*run_lines("mine"), *run_lines("theirs", user=OTHER), *run_lines("far", server="http://x")]
    )
    assert contents.select(LAST, SERVER, ME).id == "mine"
    assert contents.select(LAST, SERVER, OTHER).id == "theirs"
    with pytest.raises(JournalReadError, match="another user"):
        contents.select("theirs", SERVER, ME)
    with pytest.raises(JournalReadError, match="made on http://x"):
        contents.select("far", SERVER, ME)
    with pytest.raises(JournalReadError, match="not in the journal"):
        contents.select("nope", SERVER, ME)
    with pytest.raises(JournalReadError, match="no applied run of this user"):
        contents.select(LAST, SERVER, "u-nobody")


def test_a_missing_or_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(JournalReadError, match="no journal at"):
        read_journal(tmp_path / "none.jsonl")
    with pytest.raises(JournalReadError, match="cannot read the journal"):
        read_journal(tmp_path)  # a folder
