"""Within an apply stage the largest requests go first, so no stage ends on one.

A request's service time grows with the ids it carries (0.15 ms per id on Immich v3), so a
1,000-id request picked up last would run alone at the end of its stage while the server's
other workers idle. Read on the simulator's request timeline, with one request in flight at a
time so the order the server sees is the order the client sends. Also the verification after
the date writes reads only the assets the run updated (not every asset: the generated
library's assets all share one `updatedAt`, the snapshot's newest).
"""

from __future__ import annotations

from pathlib import Path

from custom_components.immich_autotag.engine.album_cache import AlbumCache
from custom_components.immich_autotag.engine.report import RunStatus
from custom_components.immich_autotag.engine.rules_loader import load_rules
from tests.sim.generator import generate_profile, generator_key
from tests.sim.server import Simulator, assert_no_violations
from tests.sim.timeline import Span

from .harness import run_once

RULES = load_rules((Path(__file__).resolve().parents[2] / "examples" / "rules.yaml").read_text())
FULL = 1000  # ids per bulk request
STAGES = {  # route -> apply stage (its requests only; a stage's reads are left out)
    "POST /albums": "additions",
    "PUT /tags/assets": "additions",
    "PUT /albums/{id}/assets": "additions",
    "DELETE /tags/{id}/assets": "removals",
    "DELETE /albums/{id}/assets": "removals",
    "PUT /assets": "dates",
}


def by_stage(spans: list[Span]) -> dict[str, list[int]]:
    """Ids carried by each stage's requests, in the order the server received them."""
    stages: dict[str, list[int]] = {}
    for span in sorted(spans, key=lambda s: s.arrived):
        if span.route in STAGES:
            stages.setdefault(STAGES[span.route], []).append(span.items)
    return stages


async def test_largest_requests_of_a_stage_go_first() -> None:
    lib = generate_profile("generated", 3000, seed=1)
    sim = Simulator(lib)
    sim.stats.timeline = []
    async with sim.serve() as url:
        report, _, _ = await run_once(sim, url, generator_key(lib), RULES, max_concurrency=1)
    assert report.status is RunStatus.SUCCESS, report.errors[:3]
    assert_no_violations(sim)
    stages = by_stage(sim.stats.timeline)
    additions = stages["additions"]
    full = sum(items >= FULL for items in additions)
    assert full >= 1, "the library must need a full chunk for this test to mean anything"
    assert len(additions) > 4 * full
    assert additions[0] == max(additions)  # first: the largest
    assert all(items < FULL for items in additions[2 * full :])  # full chunks early on
    assert additions[-1] < max(additions) / 10  # and the stage ends on a small one
    for sizes in stages.values():
        assert sizes[0] == max(sizes), sizes[:10]
    dated = report.changes["date_set"]
    last_date = max(s.arrived for s in sim.stats.timeline if s.route == "PUT /assets")
    reads_after_dates = [
        s.items
        for s in sorted(sim.stats.timeline, key=lambda s: s.arrived)
        if s.route == "POST /search/metadata" and s.arrived > last_date
    ]
    # The settle poll reads the re-dated assets (one page here), then one read per changed tag
    # limited to them: never a whole-library walk (the library has 3 pages).
    assert reads_after_dates, "the verification read nothing"
    assert reads_after_dates[0] == dated
    assert all(items <= dated for items in reads_after_dates)


async def test_the_closing_album_listing_goes_beside_the_verification() -> None:
    """The album cache's closing `GET /albums` is sent once the album changes are written,
    not after the verification of the tags (which waits for Immich's metadata jobs)."""
    lib = generate_profile("generated", 3000, seed=1)
    sim = Simulator(lib)
    sim.stats.timeline = []
    async with sim.serve() as url:
        cache = AlbumCache()
        report, _, _ = await run_once(sim, url, generator_key(lib), RULES, cache=cache)
        first = len(sim.stats.timeline)
        again, _, writes = await run_once(sim, url, generator_key(lib), RULES, cache=cache)
    assert report.status is RunStatus.SUCCESS, report.errors[:3]
    assert report.changes["date_set"]
    assert report.changes["album_add"]
    # the listing recorded the albums the run changed: the next run lists none of them
    assert (again.status, writes) == (RunStatus.SUCCESS, 0)
    assert sum(s.kind == "album listing" for s in sim.stats.timeline[:first]) > 0
    assert not [s for s in sim.stats.timeline[first:] if s.kind == "album listing"]
    spans = sorted(sim.stats.timeline, key=lambda s: s.arrived)
    last_date = max(s.arrived for s in spans if s.route == "PUT /assets")
    listings = [s.arrived for s in spans if s.route == "GET /albums"]
    verification = [
        s.arrived for s in spans if s.route == "POST /search/metadata" and s.arrived > last_date
    ]
    # the snapshot's, the check for albums created meanwhile, the closing one, the next run's
    assert len(listings) == 4
    assert verification, "the verification read nothing"
    assert listings[2] < verification[0]
