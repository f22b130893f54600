"""`--undo` of the headless command: the default journal, dry run, exit codes, skipped changes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.sim.server import Simulator, assert_no_violations
from tests.sim.view import differences, view

from .command import headless
from .test_engine_core import RULES, build


async def test_run_then_undo_last_from_the_default_journal(tmp_path: Path) -> None:
    lib, key, _ = build()
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    before = view(lib)
    sim = Simulator(lib, metadata_delay_s=0.05)
    async with sim.serve() as url:
        base = ("--url", url, "--api-key", key)
        code, out, err = await headless(*base, "--rules", str(rules), "--json", home=tmp_path)
        assert code == 0, err
        run_id = json.loads(out)["id"]
        journal = tmp_path / ".local" / "state" / "immich-autotag" / "journal.jsonl"
        assert journal.exists()  # the default journal
        after_run = view(lib)

        writes = sim.stats.writes
        code, out, err = await headless(
            *base, "--undo", "last", "--dry-run", "--json", home=tmp_path
        )
        assert code == 0, err
        dry = json.loads(out)
        assert (dry["undo_of"], dry["dry_run"], dry["skipped_total"]) == (run_id, True, 0)
        assert dry["planned_changes_total"] == sum(dry["changes"].values()) > 0
        assert sim.stats.writes == writes
        assert view(lib) == after_run

        code, out, err = await headless(*base, "--undo", run_id, home=tmp_path)
        assert code == 0, err
        assert f"undo of run {run_id}" in out
        assert "0 skipped" in out
        await sim.metadata_settled()
        assert differences(before, view(lib)) == []
    assert_no_violations(sim)


async def test_skipped_changes_exit_1_and_are_listed(tmp_path: Path) -> None:
    lib, key, ids = build()
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    journal = tmp_path / "j.jsonl"
    sim = Simulator(lib, metadata_delay_s=0.05)
    async with sim.serve() as url:
        base = ("--url", url, "--api-key", key, "--journal", str(journal))
        code, _, err = await headless(*base, "--rules", str(rules), home=tmp_path)
        assert code == 0, err
        await sim.metadata_settled()
        temp = lib.album_by_name("2022-05-06-autotag-temp-unclassified")[0]
        temp.assets[ids["beach"]] = None  # the user files a photo of their own there
        lib.tick()
        code, out, err = await headless(*base, "--undo", "last", home=tmp_path)
        assert code == 1, (out, err)
        assert "1 skipped" in out
        assert "skipped album_create 2022-05-06-autotag-temp-unclassified" in out
        assert lib.album_assets(temp.id) == {ids["beach"]}  # the run's photo left, the user's stays


async def test_bad_undo_input_exits_2_before_any_request(tmp_path: Path) -> None:
    lib, key, _ = build()
    sim = Simulator(lib)
    async with sim.serve() as url:
        base = ("--url", url, "--api-key", key)
        code, _, err = await headless(*base, "--undo", "last", home=tmp_path)
        assert code == 2
        assert "no journal at" in err
        bad = tmp_path / "bad.jsonl"
        bad.write_text('{"journal": 7, "run": "x"}\n{"run": "x", "seq": 1, "kind": "tag_add"}\n')
        code, _, err = await headless(*base, "--undo", "x", "--journal", str(bad), home=tmp_path)
        assert code == 2
        assert "format 7" in err
        for extra in ("--no-journal", "--migrate-outputs"):
            code, _, err = await headless(*base, "--undo", "last", extra, home=tmp_path)
            assert code == 2
            assert "--undo reads the journal" in err
        assert sim.stats.total == 0
        empty = tmp_path / "empty.jsonl"
        empty.write_text("")
        code, out, _ = await headless(
            *base, "--undo", "last", "--journal", str(empty), home=tmp_path
        )
        assert code == 2  # connected, then: no run of this user to undo
        assert "no applied run" in out
        assert sim.stats.writes == 0
