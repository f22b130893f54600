"""Renamed outputs against the simulator: found, reported, dry-run planned, moved, journaled.

The rules rename the unknown tag and the per-group prefix and turn the conflict tag off; the
library also holds what must never be touched: a user tag under the old prefix that is not a
per-group tag, and an old output with a child tag.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from custom_components.immich_autotag.engine.journal import Journal, JournalFile
from custom_components.immich_autotag.engine.output_names import DEFAULT_OUTPUTS, journal_outputs
from custom_components.immich_autotag.engine.report import RunReport, RunStatus
from custom_components.immich_autotag.engine.rules_loader import load_rules
from tests.journal_audit import assert_journaled, picture
from tests.sim.library import SimLibrary
from tests.sim.server import Simulator, assert_no_violations

from .command import headless
from .harness import run_once

OLD_PREFIX = DEFAULT_OUTPUTS["autotag_classification_conflict_prefix"][0]
CLASSIFY = "  rules:\n    - {tag_names: [cat]}\n    - {tag_names: [dog]}\n"
RENAMED = (
    "classification:\n"
    "  autotag_unknown: autotag_unknown\n"
    "  autotag_conflict: null\n" + CLASSIFY + "duplicate_processing:\n"
    "  autotag_classification_conflict_prefix: dup_group_\n"
)


def build() -> tuple[SimLibrary, str, dict[str, str]]:
    lib = SimLibrary(seed=5)
    me = lib.add_user("me@example.com", "Me")
    key = lib.add_api_key(me)
    group = "7b6f2c1e-3d4a-4b5c-8d9e-0f1a2b3c4d5e"  # a duplicate id is a UUID v4
    loose = [lib.add_asset(me, f"IMG_{i}.jpg", taken=datetime(2023, 1, 1 + i, 9)) for i in range(3)]
    cat = lib.add_asset(me, "CAT.jpg", taken=datetime(2023, 2, 1, 9), duplicate_id=group)
    dog = lib.add_asset(me, "DOG.jpg", taken=datetime(2023, 2, 1, 9), duplicate_id=group)
    both = lib.add_asset(me, "BOTH.jpg", taken=datetime(2023, 3, 1, 9))
    lib.tag_asset(lib.add_tag(me, "cat"), cat, both)
    lib.tag_asset(lib.add_tag(me, "dog"), dog, both)
    ids = {
        "group": group,
        "cat": cat.id,
        "dog": dog.id,
        "both": both.id,
        **{f"loose{i}": a.id for i, a in enumerate(loose)},
    }
    return lib, key, ids


class History:
    """The HA side's source: the record of the last real run."""

    def __init__(self) -> None:
        self.record: Mapping[str, Sequence[str]] | None = None

    async def __call__(self, _server: str, _user: str) -> Mapping[str, Sequence[str]] | None:
        return self.record

    def keep(self, report: RunReport) -> None:
        if not report.dry_run and report.output_names:
            self.record = report.output_names


async def test_renamed_outputs_are_reported_then_moved_only_when_asked() -> None:
    lib, key, ids = build()
    sim = Simulator(lib)
    me = lib.user_by_email("me@example.com")
    history = History()
    async with sim.serve() as url:
        first, _, _ = await run_once(
            sim, url, key, load_rules("classification:\n" + CLASSIFY), output_history=history
        )
        assert first.status is RunStatus.SUCCESS, first.errors
        history.keep(first)
        assert first.output_names["autotag_unknown"] == ["autotag_output_unknown"]
        assert first.output_migration == []
        group_tag = f"{OLD_PREFIX}{ids['group']}"
        assert lib.asset_tags(ids["loose2"]) == {"autotag_output_unknown"}
        assert group_tag in lib.asset_tags(ids["cat"])
        assert "autotag_output_conflict" in lib.asset_tags(ids["both"])

        rules = load_rules(RENAMED)
        # Once the prefix is renamed, tags under the old one are the user's unless they are
        # per-group tags (`<prefix><duplicate id>`): this one is never touched.
        lib.tag_asset(lib.add_tag(me, f"{OLD_PREFIX}holiday"), ids["loose0"])
        # Not asked: the old tags stay, and the run says so.
        second, _, _ = await run_once(sim, url, key, rules, output_history=history)
        history.keep(second)
        assert lib.asset_tags(ids["loose2"]) == {"autotag_output_unknown", "autotag_unknown"}
        found = {(m["old"], m["new"], m["assets"], m["state"]) for m in second.output_migration}
        assert found == {
            ("autotag_output_unknown", "autotag_unknown", 3, "pending"),
            ("autotag_output_conflict", None, 1, "pending"),
            (group_tag, f"dup_group_{ids['group']}", 2, "pending"),
        }
        renamed = [str(w["message"]) for w in second.warnings if w["kind"] == "renamed_output"]
        assert any("autotag_output_unknown → autotag_unknown; 3 assets" in m for m in renamed)
        assert "tag_migrate" not in second.changes
        # The record keeps the old names until they are moved.
        assert second.output_names["autotag_unknown"] == [
            "autotag_unknown",
            "autotag_output_unknown",
        ]

        before = picture(lib)
        dry, _, writes = await run_once(
            sim, url, key, rules, output_history=history, dry_run=True, migrate_outputs=True
        )
        assert writes == 0
        assert dry.changes == {"tag_migrate": 6, "tag_delete": 3}
        assert [(i["kind"], i["target"]) for i in dry.planned_changes[:2]] == [
            ("tag_migrate", "autotag_output_conflict"),
            ("tag_delete", "autotag_output_conflict"),
        ]
        assert {m["state"] for m in dry.output_migration} == {"planned"}

        journal = Journal()
        real, _, _ = await run_once(
            sim, url, key, rules, output_history=history, migrate_outputs=True, journal=journal
        )
        history.keep(real)
        assert real.status is RunStatus.SUCCESS, real.errors
        assert real.changes == dry.changes  # the dry run showed what the run did
        assert {m["state"] for m in real.output_migration} == {"migrated"}
        tags = set(lib.tags_of_user(me))
        assert not {"autotag_output_unknown", "autotag_output_conflict", group_tag} & tags
        assert f"{OLD_PREFIX}holiday" in tags
        assert lib.asset_tags(ids["loose2"]) == {"autotag_unknown"}
        assert lib.asset_tags(ids["loose0"]) == {"autotag_unknown", f"{OLD_PREFIX}holiday"}
        assert f"dup_group_{ids['group']}" in lib.asset_tags(ids["cat"])
        assert lib.asset_tags(ids["both"]) == {"cat", "dog"}
        assert_journaled(before, picture(lib), journal.entries)
        assert real.output_names["autotag_unknown"] == ["autotag_unknown"]
        assert "autotag_conflict" not in real.output_names

        again, _, writes = await run_once(
            sim, url, key, rules, output_history=history, migrate_outputs=True
        )
        assert writes == 0
        assert again.changes == {}
        assert again.output_migration == []
    assert_no_violations(sim)


async def test_old_output_with_child_tags_is_kept_and_runs_for_given_assets_never_migrate() -> None:
    lib, key, ids = build()
    sim = Simulator(lib)
    history = History()
    history.record = {"autotag_album_date_mismatch": ["autotag_output_album_date_mismatch"]}
    rules = load_rules(
        "classification:\n" + CLASSIFY + "album_date_consistency:\n"
        "  autotag_album_date_mismatch: date_mismatch\n"
    )
    me = lib.user_by_email("me@example.com")
    lib.tag_asset(lib.add_tag(me, "autotag_output_album_date_mismatch/x"), ids["loose1"])
    async with sim.serve() as url:
        report, _, _ = await run_once(
            sim, url, key, rules, output_history=history, migrate_outputs=True
        )
        (item,) = report.output_migration
        assert item["state"] == "kept"
        assert "child tags" in item["reason"]
        assert lib.tag_by_value(me, "autotag_output_album_date_mismatch") is not None
        assert "tag_migrate" not in report.changes

        history.record = {"autotag_unknown": ["autotag_output_unknown"]}
        lib.tag_asset(lib.add_tag(me, "autotag_output_unknown"), ids["loose2"])
        focused, _, _ = await run_once(
            sim,
            url,
            key,
            load_rules("classification:\n  autotag_unknown: other\n" + CLASSIFY),
            output_history=history,
            migrate_outputs=True,
            asset_ids=[ids["loose2"]],
        )
        assert [m["state"] for m in focused.output_migration] == ["pending"]
        assert any(w["kind"] == "migrate_outputs_skipped" for w in focused.warnings)
        assert "autotag_output_unknown" in lib.asset_tags(ids["loose2"])
    assert_no_violations(sim)


async def test_the_journal_header_keeps_the_record_the_next_run_reads(tmp_path: Path) -> None:
    lib, key, _ids = build()
    sim = Simulator(lib)
    path = tmp_path / "journal.jsonl"
    async with sim.serve() as url:
        file = JournalFile(path)
        report, _, _ = await run_once(
            sim,
            url,
            key,
            load_rules("classification:\n" + CLASSIFY),
            journal=Journal(file),
            output_history=History(),
        )
        file.close()
    assert report.user_id is not None
    web_url = url.removesuffix("/api")
    assert journal_outputs(path, web_url, report.user_id) == report.output_names
    assert journal_outputs(path, web_url, "someone else") is None
    assert journal_outputs(path, "http://other.example", report.user_id) is None
    assert journal_outputs(tmp_path / "missing.jsonl", web_url, report.user_id) is None


async def test_headless_finds_the_old_name_in_its_journal_and_moves_it_when_asked(
    tmp_path: Path,
) -> None:
    lib, key, ids = build()
    sim = Simulator(lib)
    first, renamed = tmp_path / "first.yaml", tmp_path / "renamed.yaml"
    first.write_text("classification:\n  autotag_unknown: unsorted/a\n" + CLASSIFY)
    renamed.write_text("classification:\n  autotag_unknown: unsorted/b\n" + CLASSIFY)
    journal = tmp_path / "journal.jsonl"
    async with sim.serve() as url:
        base = ("--url", url, "--api-key", key, "--journal", str(journal))
        code, _, err = await headless(*base, "--rules", str(first), home=tmp_path)
        assert code == 0, err
        assert lib.asset_tags(ids["loose0"]) == {"unsorted/a"}

        code, out, err = await headless(*base, "--rules", str(renamed), home=tmp_path)
        assert code == 0, err
        assert "unsorted/a → unsorted/b (autotag_unknown): 3 assets, pending" in out
        assert "--migrate-outputs" in out
        assert lib.asset_tags(ids["loose0"]) == {"unsorted/a", "unsorted/b"}

        writes = sim.stats.writes
        dry_args = ("--rules", str(renamed), "--dry-run", "--migrate-outputs", "--json")
        code, out, err = await headless(*base, *dry_args, home=tmp_path)
        assert code == 0, err
        dry = json.loads(out)
        assert dry["changes"] == {"tag_migrate": 3, "tag_delete": 1}
        assert sim.stats.writes == writes

        real_args = ("--rules", str(renamed), "--migrate-outputs", "--json")
        code, out, err = await headless(*base, *real_args, home=tmp_path)
        assert code == 0, err
        assert json.loads(out)["changes"] == dry["changes"]
        assert lib.asset_tags(ids["loose0"]) == {"unsorted/b"}
        assert lib.tag_by_value(lib.user_by_email("me@example.com"), "unsorted/a") is None

        writes = sim.stats.writes
        code, out, err = await headless(*base, *real_args, home=tmp_path)
        assert code == 0, err
        again = json.loads(out)
        assert again["changes"] == {}
        assert again["output_migration"] == []
        assert sim.stats.writes == writes
    assert_no_violations(sim)


async def test_an_undone_migration_gives_the_old_tag_back_and_the_next_run_finds_it(
    tmp_path: Path,
) -> None:
    """The migration's untagging and deletion are journaled: undoing the run creates the old
    tag again on the same assets, and the undo's start line carries the names the undone run
    found, so the next run reports the old tag again (and can move it again)."""
    lib, key, ids = build()
    sim = Simulator(lib)
    me = lib.user_by_email("me@example.com")
    first, renamed = tmp_path / "first.yaml", tmp_path / "renamed.yaml"
    first.write_text("classification:\n  autotag_unknown: unsorted/a\n" + CLASSIFY)
    renamed.write_text("classification:\n  autotag_unknown: unsorted/b\n" + CLASSIFY)
    journal = tmp_path / "journal.jsonl"
    loose = [ids[f"loose{i}"] for i in range(3)]
    async with sim.serve() as url:
        base = ("--url", url, "--api-key", key, "--journal", str(journal))
        for args in (("--rules", str(first)), ("--rules", str(renamed))):
            code, _, err = await headless(*base, *args, home=tmp_path)
            assert code == 0, err
        before = {a: lib.asset_tags(a) for a in loose}
        assert all(tags == {"unsorted/a", "unsorted/b"} for tags in before.values())

        migrate = ("--rules", str(renamed), "--migrate-outputs", "--json")
        code, out, err = await headless(*base, *migrate, home=tmp_path)
        assert code == 0, err
        assert json.loads(out)["changes"] == {"tag_migrate": 3, "tag_delete": 1}
        assert lib.tag_by_value(me, "unsorted/a") is None

        code, out, err = await headless(*base, "--undo", "last", "--json", home=tmp_path)
        assert code == 0, err
        undone = json.loads(out)
        assert undone["skipped_total"] == 0
        assert {a: lib.asset_tags(a) for a in loose} == before
        assert lib.tag_by_value(me, "unsorted/a") is not None

        code, out, err = await headless(*base, "--rules", str(renamed), home=tmp_path)
        assert code == 0, err
        assert "unsorted/a → unsorted/b (autotag_unknown): 3 assets, pending" in out
        code, out, err = await headless(*base, *migrate, home=tmp_path)
        assert code == 0, err
        assert json.loads(out)["changes"] == {"tag_migrate": 3, "tag_delete": 1}
        assert all(lib.asset_tags(a) == {"unsorted/b"} for a in loose)
    assert_no_violations(sim)


async def test_a_rules_change_that_renames_temporary_albums_leaves_no_old_one() -> None:
    """Temporary albums are named by the date (the suffix is fixed, not a rules key): when a
    rules change moves an asset's date, it moves to the new day's album and the old one goes."""
    lib = SimLibrary(seed=3)
    me = lib.add_user("me@example.com", "Me")
    key = lib.add_api_key(me)
    asset = lib.add_asset(me, "IMG_20230105_120000.jpg", taken=datetime(2023, 1, 10, 12))
    sim = Simulator(lib)
    off = "duplicate_processing:\n  date_correction: {enabled: false}\n"
    on = "duplicate_processing:\n  date_correction: {enabled: true, extraction_timezone: UTC}\n"
    async with sim.serve() as url:
        await run_once(sim, url, key, load_rules(off))
        (old,) = lib.album_by_name("2023-01-10-autotag-temp-unclassified")
        assert lib.album_assets(old.id) == {asset.id}
        report, _, _ = await run_once(sim, url, key, load_rules(on))
        assert report.changes["date_set"] == 1
        (new,) = lib.album_by_name("2023-01-05-autotag-temp-unclassified")
        assert lib.album_assets(new.id) == {asset.id}
        assert old.id not in lib.albums
        assert [a.name for a in lib.albums.values()] == [new.name]
        _, _, writes = await run_once(sim, url, key, load_rules(on))
        assert writes == 0
    assert_no_violations(sim)
