"""The benchmarks' request floor is a floor, and runs stay within 5 % of it (both profiles)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.floor import Floor, floor_of_next_run, write_floor
from custom_components.immich_autotag.engine.album_cache import AlbumCache
from custom_components.immich_autotag.engine.plan import Plan
from custom_components.immich_autotag.engine.report import RunStatus
from custom_components.immich_autotag.engine.rules_loader import load_rules_file
from tests.sim.generator import generate_profile, generator_key
from tests.sim.server import Simulator

from .harness import run_once

RULES = Path(__file__).resolve().parents[2] / "examples" / "rules.yaml"


def test_additions_take_the_cheaper_of_per_target_and_per_target_set() -> None:
    same = frozenset(range(1500))
    overlap = {"x": frozenset(range(1000)), "y": frozenset(range(500, 1500))}
    writes = write_floor(Plan(tag_adds={"a": same, "b": same}, album_adds=overlap))
    assert writes["tag additions"] == 2  # both tags at once, in two chunks
    assert writes["album additions"] == 2  # one per album beats x, x+y, y


@pytest.mark.parametrize("profile", ["generated", "independent"])
async def test_runs_cost_at_least_the_floor_and_at_most_5_percent_more(profile: str) -> None:
    lib = generate_profile(profile, 2500, seed=2)
    key = generator_key(lib)
    sim = Simulator(lib)
    rules = load_rules_file(RULES)
    cache = AlbumCache()
    async with sim.serve() as url:
        floors: list[Floor] = []
        reports = []
        for albums_cached in (False, True, True):
            floors.append(await floor_of_next_run(url, key, rules, albums_cached=albums_cached))
            report, _, _ = await run_once(sim, url, key, rules, cache=cache)
            assert report.status is RunStatus.SUCCESS
            reports.append(report)
    first, second, steady = (r.api.requests for r in reports)
    assert floors[0].total <= first <= 1.05 * floors[0].total
    assert floors[0].write_total > 200  # a first run that changes a lot
    assert floors[0].writes["run lease"] == 4  # create, two looks, release (engine/lease.py)
    assert reports[0].api.by_endpoint["DELETE /tags/{id}"] >= 1  # the release
    for floor, requests in ((floors[1], second), (floors[2], steady)):
        assert floor.write_total == 0
        # Above the floor: counting the asset pages (and multi-page tags) to fetch them at once.
        assert floor.total <= requests <= floor.total + 3
