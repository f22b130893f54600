"""A key without some permissions: those features are off, the rest of the run works."""

from __future__ import annotations

from datetime import datetime

import pytest

from custom_components.immich_autotag.const import OPTIONAL_PERMISSIONS, REQUIRED_PERMISSIONS
from custom_components.immich_autotag.engine.report import RunStatus
from tests.sim.records import SimUser
from tests.sim.server import Simulator, assert_no_violations

from .harness import run_once
from .test_all_phases import RULES, UNKNOWN, World, build

EVERY_PERMISSION = REQUIRED_PERMISSIONS | OPTIONAL_PERMISSIONS
LIMITED = EVERY_PERMISSION - {
    "asset.update",
    "album.delete",
    "albumUser.create",
    "albumUser.update",
    "albumUser.delete",
}


async def test_missing_permissions_disable_their_features() -> None:
    world = build()
    me = world.lib.user_by_email("me@example.com")
    key = world.lib.add_api_key(me, permissions=set(LIMITED), name="limited")
    whatsapp_before = world.lib.asset(world.ids["whatsapp"]).date_time_original
    sim = Simulator(world.lib)
    async with sim.serve() as url:
        report, _, _ = await run_once(sim, url, key, RULES)
        again, _, writes = await run_once(sim, url, key, RULES)
    assert report.status is RunStatus.SUCCESS, report.errors
    missing = {w["message"] for w in report.warnings if w["kind"] == "permission_missing"}
    assert len(missing) == 5  # dates, sharing (add, update, remove), temp-album deletion
    assert world.lib.asset(world.ids["whatsapp"]).date_time_original == whatsapp_before
    xmas = world.lib.album_by_name("2024 Family Xmas")[0]
    assert xmas.users == {world.users["bob"]: "viewer"}  # sharing untouched
    assert len(world.lib.album_by_name("2018-01-01-autotag-temp-unclassified")) == 1  # kept
    assert world.lib.asset_tags(world.ids["whatsapp"]) == {UNKNOWN}  # the rest is done
    assert world.lib.asset_albums(world.ids["meme"]) == {"autotag_input_meme"}
    assert again.status is RunStatus.SUCCESS
    assert writes == 0
    assert_no_violations(sim)


WRITES: dict[str, set[str]] = {  # permission -> the endpoints that need it
    "asset.update": {"PUT /assets"},
    "tag.create": {"PUT /tags"},
    "tag.asset": {"PUT /tags/assets", "DELETE /tags/{id}/assets"},
    "tag.delete": {"DELETE /tags/{id}"},
    "album.create": {"POST /albums"},
    "album.delete": {"DELETE /albums/{id}"},
    "albumAsset.create": {"PUT /albums/{id}/assets"},
    "albumAsset.delete": {"DELETE /albums/{id}/assets"},
    "albumUser.create": {"PUT /albums/{id}/users"},
    "albumUser.update": {"PUT /albums/{id}/user/{userId}"},
    "albumUser.delete": {"DELETE /albums/{id}/user/{userId}"},
}
READ_ONLY = EVERY_PERMISSION - set(WRITES)


def world_with_every_kind_of_change() -> tuple[World, SimUser]:
    """The all-phases world plus a role change, an orphan group tag and a new shared album."""
    world = build()
    lib = world.lib
    me = lib.user_by_email("me@example.com")
    alice = lib.user_by_email("alice@example.com")
    photo = lib.add_asset(me, "DSC0900.jpg", taken=datetime(2023, 3, 3, 12))
    lib.add_album(me, "2023-03 Family", [photo], users=[(alice, "viewer")])  # -> editor
    lib.add_tag(me, "autotag_output_duplicate_asset_classification_conflict_0000dead")
    lib.add_asset(me, "DSC0901.jpg", "/p/2022-02-02 family day/DSC0901.jpg", datetime(2022, 2, 2))
    return world, me


@pytest.mark.parametrize("missing", sorted(WRITES))
async def test_a_key_without_one_write_permission_plans_only_what_it_may_do(
    missing: str,
) -> None:
    world, me = world_with_every_kind_of_change()
    key = world.lib.add_api_key(me, permissions=EVERY_PERMISSION - {missing}, name="k")
    full, _ = world_with_every_kind_of_change()
    sim_full = Simulator(full.lib)
    async with sim_full.serve() as url:
        reference, _, _ = await run_once(sim_full, url, full.key, RULES)
    assert WRITES[missing] & set(reference.api.by_endpoint), "the world must need it"
    sim = Simulator(world.lib)
    async with sim.serve() as url:
        dry, _, _ = await run_once(sim, url, key, RULES, dry_run=True)
        report, _, _ = await run_once(sim, url, key, RULES)
        again, _, writes = await run_once(sim, url, key, RULES)
    assert report.status is RunStatus.SUCCESS, report.errors
    assert report.failed_changes == {}
    assert not WRITES[missing] & set(report.api.by_endpoint)  # never asked, so never refused
    assert report.changes == dry.changes
    assert report.changes  # the rest is done
    warned = [str(w["message"]) for w in report.warnings if w["kind"] == "permission_missing"]
    assert any(missing in m for m in warned), warned
    assert writes == 0, again.changes
    assert_no_violations(sim)


async def test_a_read_only_key_runs_as_a_dry_run_with_a_warning() -> None:
    world, me = world_with_every_kind_of_change()
    key = world.lib.add_api_key(me, permissions=READ_ONLY, name="read only")
    sim = Simulator(world.lib)
    async with sim.serve() as url:
        report, _, writes = await run_once(sim, url, key, RULES)
    assert writes == 0
    assert report.status is RunStatus.SUCCESS, report.errors
    assert report.dry_run is True
    assert report.planned_changes_total > 0
    assert any(w["kind"] == "read_only_key" for w in report.warnings)
    assert_no_violations(sim)
