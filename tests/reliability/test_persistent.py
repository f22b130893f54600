"""Persistent faults: one route keeps failing.

The affected changes are reported (status partial, failed changes, errors), the rest of the
run completes, a move never loses an asset (removals are skipped when their additions failed),
and the next run without the fault finishes the work: the final state equals a fault-free run's.
"""

from __future__ import annotations

import pytest

from custom_components.immich_autotag.engine.report import RunStatus
from tests.sim.faults import Faults
from tests.sim.server import Simulator, assert_no_violations

from .common import (
    assert_settled,
    assert_valid_intermediate,
    build_library,
    canonical,
    my_tags,
    reference_state,
    rules,
    run_sim,
)

N_ASSETS = 120
SEED = 8

# route -> change kinds that must be reported failed (and which must still succeed)
FAILING = {
    "PUT /albums/{id}/assets": ({"album_add", "tag_remove"}, {"album_create", "tag_add"}),
    "DELETE /tags/{id}/assets": ({"tag_remove"}, {"album_add", "album_create", "tag_add"}),
    "POST /albums": ({"album_create", "album_add", "tag_remove"}, {"tag_add", "date_set"}),
    "PUT /tags/assets": ({"tag_add"}, {"album_create", "album_add", "date_set"}),
    "PUT /assets": ({"date_set"}, {"album_create", "tag_add"}),
    "DELETE /albums/{id}": ({"album_delete"}, {"album_create", "tag_add"}),
}


@pytest.mark.parametrize("route", list(FAILING))
async def test_a_failing_route_is_reported_and_the_next_run_finishes(route: str) -> None:
    failed_kinds, ok_kinds = FAILING[route]
    the_rules = rules()
    want = await reference_state(lambda: build_library(N_ASSETS, SEED), the_rules)
    built = build_library(N_ASSETS, SEED)
    before = canonical(built.lib)
    meme_before = {a for a, e in before["assets"].items() if "meme" in my_tags(e)}
    sim = Simulator(built.lib, faults=Faults(fail_route=route))
    async with sim.serve() as url:
        report, _ = await run_sim(sim, url, built.key, the_rules)
        assert report.status is RunStatus.PARTIAL, report.error_message
        assert report.error_kind is None
        assert failed_kinds <= set(report.failed_changes), report.failed_changes
        assert report.errors
        assert report.errors_total >= len(report.errors)
        assert sim.stats.faults_injected["500"] > 0
        assert report.api.retries > 0  # a 500 is retried before it counts as failed
        for kind in ok_kinds:  # the rest of the run went on
            assert report.changes.get(kind, 0) > 0, (kind, report.changes)
        middle = canonical(built.lib)
        assert_valid_intermediate(before, middle, the_rules)
        if "tag_remove" in failed_kinds:  # the move did not happen: the source tag stays
            in_scope_meme = {
                a
                for a in meme_before
                if not middle["assets"][a]["trashed"]
                and "people/family" not in my_tags(middle["assets"][a])
            }
            still = {a for a in in_scope_meme if "meme" in my_tags(middle["assets"][a])}
            in_album = {
                a for a in in_scope_meme if "autotag_input_meme" in middle["assets"][a]["albums"]
            }
            assert in_scope_meme <= still | in_album

        sim.faults = Faults()
        again, _ = await run_sim(sim, url, built.key, the_rules)
        assert again.status is RunStatus.SUCCESS, again.errors[:5]
        await assert_settled(sim, url, built.key, the_rules, want)
    assert_no_violations(sim)


async def test_move_conversion_keeps_the_source_tag_when_the_destination_album_fails() -> None:
    """Focused: meme assets must not lose `meme` when adding them to the album fails."""
    the_rules = rules()
    built = build_library(N_ASSETS, SEED)
    before = canonical(built.lib)
    meme = {
        a
        for a, e in before["assets"].items()
        if "meme" in my_tags(e)
        and not e["trashed"]
        and e["owner"] == "me@example.com"
        and "people/family" not in my_tags(e)
        and "autotag_input_meme" not in e["albums"]
    }
    assert meme
    sim = Simulator(built.lib, faults=Faults(fail_route="PUT /albums/{id}/assets"))
    async with sim.serve() as url:
        report, _ = await run_sim(sim, url, built.key, the_rules)
    assert report.status is RunStatus.PARTIAL
    assert report.failed_changes["tag_remove"] >= len(meme)
    assert any("skipped" in (e["message"] or "") for e in report.errors)
    for asset_id in meme:
        assert "meme" in built.lib.asset_tags(asset_id), asset_id
        assert "autotag_input_meme" not in built.lib.asset_albums(asset_id)
