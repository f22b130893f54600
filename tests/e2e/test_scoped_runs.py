"""`asset_ids` runs change only what concerns those assets (album-level changes included)."""

from __future__ import annotations

from pathlib import Path

import pytest

from custom_components.immich_autotag.engine.report import ErrorKind, RunStatus
from tests.sim.server import Simulator, assert_no_violations

from .command import headless
from .harness import run_once
from .test_all_phases import RULES, World, build

GROUP_TAG = "autotag_output_duplicate_asset_classification_conflict_0000dead"


def decorated() -> World:
    """The all-phases world plus an empty temp album and an orphan per-group tag."""
    world = build()
    me = world.lib.user_by_email("me@example.com")
    world.lib.add_album(me, "2017-07-07-autotag-temp-unclassified")
    world.lib.add_tag(me, GROUP_TAG)
    return world


@pytest.mark.parametrize("ids", [["00000000-0000-4000-8000-0000000000ff"], []])
async def test_a_run_for_unknown_assets_writes_nothing(ids: list[str]) -> None:
    """No asset in scope: no sharing, no deletion, no tag — nothing concerns those assets."""
    world = decorated()
    sim = Simulator(world.lib)
    async with sim.serve() as url:
        report, _, writes = await run_once(sim, url, world.key, RULES, asset_ids=ids)
    assert report.status is RunStatus.SUCCESS, report.errors
    assert report.assets_in_scope == 0
    assert writes == 0, report.changes
    assert report.changes == {}
    assert_no_violations(sim)


async def test_a_scoped_run_changes_only_albums_and_tags_of_its_assets() -> None:
    world = decorated()
    lib, ids = world.lib, world.ids
    me = lib.user_by_email("me@example.com")
    sim = Simulator(lib)
    async with sim.serve() as url:
        report, _, _ = await run_once(sim, url, world.key, RULES, asset_ids=[ids["xmas"]])
    assert report.status is RunStatus.SUCCESS, report.errors
    assert report.assets_in_scope == 1
    # The Xmas album holds the asset: its sharing is fixed (Alice in, Bob out).
    (xmas,) = lib.album_by_name("2024 Family Xmas")
    assert xmas.users == {world.users["alice"]: "editor"}
    # Album-level changes that do not concern the asset are left for a full run.
    assert len(lib.album_by_name("2017-07-07-autotag-temp-unclassified")) == 1
    assert lib.tag_by_value(me, GROUP_TAG) is not None
    assert len(lib.album_by_name("2018-01-01-autotag-temp-unclassified")) == 1
    assert lib.asset_albums(ids["party"]) == set()  # not in scope: not filed
    assert_no_violations(sim)


@pytest.mark.parametrize("bad", ["not-a-uuid", "12345", "00000000-0000-4000-8000-0000000000ff x"])
async def test_a_malformed_asset_id_is_an_error_before_any_request(bad: str) -> None:
    world = decorated()
    sim = Simulator(world.lib)
    async with sim.serve() as url:
        report, requests, writes = await run_once(sim, url, world.key, RULES, asset_ids=[bad])
    assert report.status is RunStatus.FAILED
    assert report.error_kind is ErrorKind.INVALID_INPUT
    assert bad.strip() in (report.error_message or "")
    assert (requests, writes) == (0, 0)


async def test_headless_malformed_asset_id_exits_2(tmp_path: Path) -> None:
    world = decorated()
    sim = Simulator(world.lib)
    async with sim.serve() as url:
        code, _, err = await headless(
            "--url", url, "--api-key", world.key, "--asset-id", "not-a-uuid", home=tmp_path
        )
    assert code == 2, err
    assert "not-a-uuid" in err
    assert sim.stats.total == 0
