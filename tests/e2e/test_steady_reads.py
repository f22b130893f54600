"""A steady re-run starts its independent reads at once: no serial chain before the pages.

The simulator's request timeline (`tests/sim/timeline.py`) shows when each request was in
the server: the asset pages do not wait for the album listing, the tag searches and the
asset pages are served together, and with the sizes the last run left in the album cache no
search is counted first (no `POST /search/statistics` to wait for). Structure, not time.
And those sizes are hints only: a library that shrank or grew since is read whole.
"""

from __future__ import annotations

import pytest

from custom_components.immich_autotag.engine.album_cache import AlbumCache
from custom_components.immich_autotag.engine.report import RunStatus
from custom_components.immich_autotag.engine.rules_loader import load_rules
from tests.sim.faults import Faults
from tests.sim.generator import generate_profile, generator_key
from tests.sim.server import Simulator, assert_no_violations
from tests.sim.timeline import Span, overlaps

from .harness import run_once
from .test_engine_core import RULES


def _together(entries: list[Span], a: str, b: str) -> bool:
    """Whether a request of kind `a` and one of kind `b` were in the server at once."""
    firsts = [e for e in entries if e.kind == a]
    seconds = [e for e in entries if e.kind == b]
    return any(x.arrived < y.ended and y.arrived < x.ended for x in firsts for y in seconds)


@pytest.mark.parametrize("profile", ["generated", "independent"])
async def test_a_steady_run_sends_its_reads_at_once(profile: str) -> None:
    lib = generate_profile(profile, 3000, seed=5)
    key = generator_key(lib)
    # Every request takes time, and more with more items: the album listing (hundreds of
    # albums) is one of the slowest requests, as on a real server.
    faults = Faults(latency_ms=20.0, latency_per_item_ms=0.1, max_concurrency=8)
    sim = Simulator(lib, version="3.0.3", faults=faults)
    sim.stats.timeline = []  # recorded
    rules = load_rules(RULES)
    cache = AlbumCache()
    async with sim.serve() as url:
        first, _, _ = await run_once(sim, url, key, rules, cache=cache, max_concurrency=32)
        assert first.status is RunStatus.SUCCESS, first.errors[:3]
        for _ in range(2):  # right after the first run (its writes in the cache), and again
            sim.stats.reset()
            steady, _, writes = await run_once(
                sim, url, key, rules, cache=cache, max_concurrency=32
            )
            assert steady.status is RunStatus.SUCCESS
            assert writes == 0
            entries = list(sim.stats.timeline)
            kinds = {e.kind for e in entries}
            assert {"asset page", "tag search", "GET /albums"} <= kinds
            # Every search's size came from the cache: nothing is counted first.
            assert "POST /search/statistics" not in kinds
            albums = next(e for e in entries if e.kind == "GET /albums")
            pages = [e for e in entries if e.kind == "asset page"]
            assert min(e.arrived for e in pages) < albums.ended  # the walk did not wait
            assert _together(entries, "asset page", "tag search")
            assert overlaps(entries, {"asset page", "tag search"}) >= 4
    assert_no_violations(sim)


async def test_sizes_from_another_run_never_change_what_is_read() -> None:
    """A size in the cache is a hint. Most of the library is trashed after a run, then given
    back after the next: each time the run with the last run's sizes reads and plans exactly
    what a run without a cache does."""
    lib = generate_profile("independent", 3000, seed=5)
    key = generator_key(lib)
    sim = Simulator(lib, version="3.0.3")
    rules = load_rules(RULES)
    cache = AlbumCache()
    trashed = [a for n, a in enumerate(lib.assets.values()) if not a.trashed and n % 10 != 0]
    async with sim.serve() as url:
        first, _, _ = await run_once(sim, url, key, rules, cache=cache)
        assert first.status is RunStatus.SUCCESS, first.errors[:3]
        seen = []
        for trash in (True, False):  # the library shrinks to a tenth, then grows back
            for asset in trashed:
                asset.trashed = trash
            lib.tick()  # a change the simulator's search caches see
            sized, _, _ = await run_once(sim, url, key, rules, cache=cache, dry_run=True)
            fresh, _, _ = await run_once(sim, url, key, rules, cache=AlbumCache(), dry_run=True)
            assert sized.status is RunStatus.SUCCESS, sized.errors[:3]
            assert sized.assets_total == fresh.assets_total
            assert sized.changes == fresh.changes
            assert sized.status_counts == fresh.status_counts
            seen.append(sized.assets_total)
            # the sizes this run leaves behind are the next one's hints
            await run_once(sim, url, key, rules, cache=cache, dry_run=True)
    assert 0 < seen[0] < first.assets_total / 5 < seen[1]  # it did shrink, then grow
    assert_no_violations(sim)
