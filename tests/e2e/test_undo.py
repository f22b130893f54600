"""Undo against the simulator: run -> undo gives back the library as it was before the run,
except what the user changed in between, on every API family, with Immich's metadata race."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from custom_components.immich_autotag.engine.journal import Journal, JournalFile
from custom_components.immich_autotag.engine.journal_read import LAST, read_journal
from custom_components.immich_autotag.engine.report import ErrorKind, RunReport, RunStatus
from custom_components.immich_autotag.engine.rules import Rules
from custom_components.immich_autotag.engine.rules_loader import load_rules
from tests.journal_audit import assert_journaled, picture, read_lines
from tests.sim.dates import to_ms
from tests.sim.faults import Faults
from tests.sim.generator import generate_library, generator_key
from tests.sim.server import Simulator, assert_no_violations
from tests.sim.view import differences, view

from .harness import run_once, undo_once
from .test_all_phases import RULES, build, only

VERSIONS = ["2.7.0", "3.0.3", "3.1.0", "3.2.2"]
EXAMPLE = load_rules((Path(__file__).resolve().parents[2] / "examples" / "rules.yaml").read_text())


async def run_journaled(sim: Simulator, url: str, key: str, path: Path, rules: Rules) -> RunReport:
    """A run appending to the journal at `path`; waits for Immich's metadata jobs."""
    journal_file = JournalFile(path)
    try:
        report, _, _ = await run_once(sim, url, key, rules, journal=Journal(journal_file))
    finally:
        journal_file.close()
    await sim.metadata_settled()
    return report


async def undo_journaled(
    sim: Simulator, url: str, key: str, path: Path, run_id: str = LAST, *, dry_run: bool = False
) -> tuple[RunReport, int]:
    """An undo reading and appending to the journal at `path`; the report and its writes."""
    contents = read_journal(path)
    journal_file = None if dry_run else JournalFile(path)
    try:
        report, _, writes = await undo_once(
            sim, url, key, contents, run_id, dry_run=dry_run, journal=Journal(journal_file)
        )
    finally:
        if journal_file is not None:
            journal_file.close()
    await sim.metadata_settled()
    return report, writes


@pytest.mark.parametrize("version", VERSIONS)
async def test_undo_gives_back_the_library_before_the_run(tmp_path: Path, version: str) -> None:
    """Every kind of change (tags, albums created and deleted, dates, sharing) is reverted;
    the undo is journaled like a run, so undoing it brings the run's result back."""
    world = build()
    before = view(world.lib)
    path = tmp_path / "journal.jsonl"
    sim = Simulator(world.lib, version=version, faults=Faults(latency_ms=1.0))
    async with sim.serve() as url:
        report = await run_journaled(sim, url, world.key, path, RULES)
        assert report.status is RunStatus.SUCCESS, report.errors
        after_run = view(world.lib)
        assert differences(before, after_run)

        dry, writes = await undo_journaled(sim, url, world.key, path, dry_run=True)
        assert writes == 0
        assert dry.undo_of == report.id
        assert view(world.lib) == after_run

        undo_pic = picture(world.lib)
        undone, _ = await undo_journaled(sim, url, world.key, path)
        assert undone.status is RunStatus.SUCCESS, undone.errors
        assert undone.undo_of == report.id
        assert undone.skipped == [], undone.skipped
        assert undone.changes == dry.changes  # the dry run announced exactly this
        assert differences(before, view(world.lib)) == []
        # The undo's journal holds every change it made, with the old values (so it can be undone).
        lines = [ln for ln in read_lines(path) if ln["run"] == undone.id]
        assert lines[0]["undoes"] == report.id
        assert_journaled(undo_pic, picture(world.lib), lines)

        redo, _ = await undo_journaled(sim, url, world.key, path)  # undo the undo
        assert redo.status is RunStatus.SUCCESS, redo.errors
        assert redo.undo_of == undone.id
        assert differences(after_run, view(world.lib)) == []

        again, writes = await undo_journaled(sim, url, world.key, path, undone.id)
        assert writes == 0, again.changes  # the same run undone twice: all is as before it
        assert again.skipped_total == 0
        assert again.unchanged > 0
        assert again.changes == {}
    assert_no_violations(sim)


async def test_later_edits_are_kept_and_listed(tmp_path: Path) -> None:
    """A change the user made after the run wins; everything else is reverted."""
    world = build()
    lib, ids = world.lib, world.ids
    before = view(lib)
    path = tmp_path / "journal.jsonl"
    sim = Simulator(lib, version="3.2.2")
    async with sim.serve() as url:
        report = await run_journaled(sim, url, world.key, path, RULES)
        assert report.status is RunStatus.SUCCESS, report.errors
        # The user, after the run: re-dates the WhatsApp photo, puts a photo of their own into
        # the temp album the run created, and makes Alice a viewer of the shared album.
        whatsapp = lib.asset(ids["whatsapp"])
        whatsapp.exif_ms = to_ms(datetime(2019, 6, 1, 9, tzinfo=UTC))
        whatsapp.time_zone = "UTC"
        temp = lib.albums[only(lib, "2019-05-12-autotag-temp-unclassified")]
        temp.assets[ids["party"]] = None
        xmas = lib.albums[only(lib, "2024 Family Xmas")]
        xmas.users[world.users["alice"]] = "viewer"
        lib.tick()
        edited = view(lib)

        undone, _ = await undo_journaled(sim, url, world.key, path)
    assert undone.status is RunStatus.SUCCESS, undone.errors
    reasons = {(s["kind"], s["id"]): s["reason"] for s in undone.skipped}
    assert undone.skipped_total == len(undone.skipped) == 3, undone.skipped
    assert "changed after the run" in reasons["date_set", ids["whatsapp"]]
    assert "changed after the run" in reasons["album_user_add", world.users["alice"]]
    assert "kept" in reasons["album_create", None]
    now = view(lib)
    # What the user did is still there ...
    assert now.dates[ids["whatsapp"]] == edited.dates[ids["whatsapp"]]
    assert lib.album_assets(temp.id) == {ids["party"]}  # the run's photo left, the user's stays
    assert lib.albums[xmas.id].users == {
        world.users["alice"]: "viewer",
        world.users["bob"]: "viewer",
    }
    # ... and everything else is as before the run.
    rest = [
        d
        for d in differences(before, now)
        if ids["whatsapp"] not in d
        and "2019-05-12-autotag-temp-unclassified" not in d
        and "2024 Family Xmas" not in d
    ]
    assert rest == []


async def test_a_run_of_another_server_or_user_or_an_unknown_id_is_refused(
    tmp_path: Path,
) -> None:
    world = build()
    path = tmp_path / "journal.jsonl"
    sim = Simulator(world.lib)
    async with sim.serve() as url:
        report = await run_journaled(sim, url, world.key, path, RULES)
        alice_key = world.lib.add_api_key(world.lib.user_by_email("alice@example.com"))
        after = view(world.lib)
        for key, run_id, words in (
            (world.key, "0" * 32, "not in the journal"),
            (alice_key, report.id, "another user"),
            (alice_key, LAST, "no applied run of this user"),
        ):
            refused, writes = await undo_journaled(sim, url, key, path, run_id)
            assert refused.status is RunStatus.FAILED
            assert refused.error_kind is ErrorKind.INVALID_INPUT
            assert words in (refused.error_message or "")
            assert writes == 0
        assert view(world.lib) == after
    other = Simulator(world.lib)
    async with other.serve(url_host="127.0.0.1") as other_url:  # the same server by another name
        refused, writes = await undo_journaled(other, other_url, world.key, path, report.id)
    assert refused.error_kind is ErrorKind.INVALID_INPUT
    assert "was made on" in (refused.error_message or "")
    assert writes == 0


@pytest.mark.parametrize("version", VERSIONS)
async def test_undo_with_immich_resetting_tags_after_date_writes(
    tmp_path: Path, version: str
) -> None:
    """The metadata race (a date write resets tags 0.5 s later): the undo writes its tag
    changes before its date writes and verifies, so the library ends exactly as before."""
    lib = generate_library(300, seed=5, wrong_date_ratio=0.3)
    key = generator_key(lib)
    before = view(lib)
    path = tmp_path / "journal.jsonl"
    sim = Simulator(lib, version=version, faults=Faults(latency_ms=1.0))
    async with sim.serve() as url:
        report = await run_journaled(sim, url, key, path, EXAMPLE)
        assert report.status is RunStatus.SUCCESS, report.errors[:5]
        assert report.changes["date_set"] >= 50
        assert report.changes["tag_add"] >= 50
        undone, _ = await undo_journaled(sim, url, key, path)
        assert undone.status is RunStatus.SUCCESS, undone.errors[:5]
        assert undone.changes["date_set"] == report.changes["date_set"]
        assert undone.skipped == []
        assert sim.lib.summary()["metadataJobs"] == 0
    assert differences(before, view(lib)) == []
    assert_no_violations(sim)
