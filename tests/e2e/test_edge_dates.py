"""Photos dated at the edge of the calendar are reported, never fatal, on every API family."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from custom_components.immich_autotag.engine.report import RunStatus
from tests.sim.library import SimLibrary
from tests.sim.server import Simulator, assert_no_violations

from .harness import run_once
from .test_all_phases import RULES

EDGES = (
    ("DSC0001.jpg", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), "Asia/Tokyo"),
    ("IMG_99991231_235959.jpg", datetime(9999, 12, 31, 20, tzinfo=UTC), "Pacific/Kiritimati"),
    ("DSC0002.jpg", datetime(1, 1, 1, tzinfo=UTC), "America/New_York"),
    ("IMG_00010101_000000.jpg", datetime(1, 1, 1, 3, tzinfo=UTC), "UTC-12"),
    ("DSC0003.jpg", datetime(1, 1, 1, 12, tzinfo=timezone(timedelta(hours=14))), None),
)


@pytest.mark.parametrize("version", ["2.7.0", "3.0.3", "3.2.2"])
async def test_edge_dates_are_reported_and_the_run_succeeds(version: str) -> None:
    lib = SimLibrary()
    me = lib.add_user("me@example.com", "Me")
    lib.add_user("alice@example.com", "Alice")
    key = lib.add_api_key(me)
    edges = [
        lib.add_asset(me, name, f"/p/{name}", taken, zone, "g1" if n in {1, 3} else None)
        for n, (name, taken, zone) in enumerate(EDGES)
    ]
    normal = lib.add_asset(me, "IMG_20200101_101010.jpg", taken=datetime(2020, 1, 1, 10, 10, 10))
    lib.add_album(me, "9999-12 Future", edges[:2])
    sim = Simulator(lib, version=version)
    async with sim.serve() as url:
        dry, _, _ = await run_once(sim, url, key, RULES, dry_run=True)
        report, _, _ = await run_once(sim, url, key, RULES)
        again, _, writes = await run_once(sim, url, key, RULES)
    for run in (dry, report, again):
        assert run.status is RunStatus.SUCCESS, (run.error_message, run.errors)
    assert report.changes == dry.changes
    reported = {w["asset_id"] for w in report.warnings if w["kind"] == "unusable_date"}
    assert {edges[0].id, edges[2].id} <= reported  # 9999 in Tokyo, year 1 in New York
    assert lib.asset_tags(normal.id) == {"autotag_output_unknown"}  # the rest is done
    assert writes == 0, again.changes
    assert_no_violations(sim)
