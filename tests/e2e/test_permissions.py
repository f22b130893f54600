"""A key without some permissions: those features are off, the rest of the run works."""

from __future__ import annotations

from custom_components.immich_autotag.const import REQUIRED_PERMISSIONS
from custom_components.immich_autotag.engine.report import RunStatus
from tests.sim.server import Simulator, assert_no_violations

from .harness import run_once
from .test_all_phases import RULES, UNKNOWN, build

LIMITED = REQUIRED_PERMISSIONS - {
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
    assert len(missing) == 3  # dates, sharing, temp-album deletion
    assert world.lib.asset(world.ids["whatsapp"]).date_time_original == whatsapp_before
    xmas = world.lib.album_by_name("2024 Family Xmas")[0]
    assert xmas.users == {world.users["bob"]: "viewer"}  # sharing untouched
    assert len(world.lib.album_by_name("2018-01-01-autotag-temp-unclassified")) == 1  # kept
    assert world.lib.asset_tags(world.ids["whatsapp"]) == {UNKNOWN}  # the rest is done
    assert world.lib.asset_albums(world.ids["meme"]) == {"autotag_input_meme"}
    assert again.status is RunStatus.SUCCESS
    assert writes == 0
    assert_no_violations(sim)
