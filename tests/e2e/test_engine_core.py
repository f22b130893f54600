"""Engine core end to end: classification, output tags, conversions, filters, idempotency."""

from __future__ import annotations

from datetime import datetime

from custom_components.immich_autotag.engine.album_cache import AlbumCache
from custom_components.immich_autotag.engine.journal import Journal
from custom_components.immich_autotag.engine.report import RunStatus
from custom_components.immich_autotag.engine.rules_loader import load_rules
from tests.rules_text import MEME_AND_DATED_ALBUMS
from tests.sim.generator import generate_library, generator_key
from tests.sim.library import SimLibrary
from tests.sim.server import Simulator, assert_no_violations

from .harness import run_once

RULES = (
    MEME_AND_DATED_ALBUMS
    + """\
create_album_from_date_if_missing: true
duplicate_processing:
  date_correction: {enabled: true, extraction_timezone: Europe/Madrid}
album_date_consistency: {enabled: true, threshold_days: 180}
filters:
  filter_out:
    - {tag_names: [private]}
"""
)


def build() -> tuple[SimLibrary, str, dict[str, str]]:
    lib = SimLibrary()
    me = lib.add_user("me@example.com", "Me")
    other = lib.add_user("other@example.com", "Other")
    key = lib.add_api_key(me)
    meme = lib.add_asset(me, "DSC0001.jpg", taken=datetime(2021, 3, 1, 10))
    beach = lib.add_asset(me, "DSC0002.jpg", taken=datetime(2024, 7, 15, 10))
    loose = lib.add_asset(me, "DSC0003.jpg", taken=datetime(2022, 5, 6, 18))
    private = lib.add_asset(me, "DSC0004.jpg", taken=datetime(2022, 5, 6, 19))
    partner = lib.add_asset(other, "DSC0005.jpg", taken=datetime(2022, 5, 6, 20))
    lib.tag_asset(lib.add_tag(me, "meme"), meme)
    lib.tag_asset(lib.add_tag(me, "private"), private)
    lib.add_album(me, "2024-07-15 Beach", [beach])
    ids = {
        "meme": meme.id,
        "beach": beach.id,
        "loose": loose.id,
        "private": private.id,
        "partner": partner.id,
    }
    return lib, key, ids


async def test_first_run_organises_and_second_run_writes_nothing() -> None:
    lib, key, ids = build()
    sim = Simulator(lib)
    rules = load_rules(RULES)
    async with sim.serve() as url:
        journal = Journal()
        report, _, writes = await run_once(sim, url, key, rules, journal=journal)
        assert report.status is RunStatus.SUCCESS, report.errors
        assert writes > 0
        meme_albums = lib.album_by_name("autotag_input_meme")
        assert len(meme_albums) == 1
        assert ids["meme"] in lib.album_assets(meme_albums[0].id)
        assert "meme" not in lib.asset_tags(ids["meme"])  # moved
        assert lib.asset_tags(ids["beach"]) == set()  # classified by its dated album
        assert lib.asset_tags(ids["loose"]) == {"autotag_output_unknown"}
        temp = lib.album_by_name("2022-05-06-autotag-temp-unclassified")
        assert len(temp) == 1
        assert lib.album_assets(temp[0].id) == {ids["loose"]}
        assert lib.asset_tags(ids["private"]) == {"private"}  # filtered out: untouched
        assert lib.asset_tags(ids["partner"]) == set()  # not ours: untouched
        assert report.status_counts == {"classified": 2, "unclassified": 1, "conflict": 0}
        assert report.assets_in_scope == 3
        assert {e["kind"] for e in journal.entries} >= {"album_create", "tag_add", "tag_remove"}

        again, requests, writes = await run_once(sim, url, key, rules)
        assert again.status is RunStatus.SUCCESS
        assert writes == 0
        assert again.changes_total == 0
        assert requests == again.api.requests
    assert_no_violations(sim)


async def test_dry_run_writes_nothing_and_lists_the_plan() -> None:
    lib, key, ids = build()
    sim = Simulator(lib)
    async with sim.serve() as url:
        report, _, writes = await run_once(sim, url, key, load_rules(RULES), dry_run=True)
    assert writes == 0
    assert report.dry_run
    assert report.changes["tag_remove"] == 1
    assert report.changes["album_create"] == 2
    kinds = {(c["kind"], c.get("asset_id")) for c in report.planned_changes}
    assert ("tag_add", ids["loose"]) in kinds
    assert report.planned_changes_total == report.changes_total
    assert lib.asset_tags(ids["meme"]) == {"meme"}
    assert_no_violations(sim)


async def test_asset_ids_limit_the_run() -> None:
    lib, key, ids = build()
    sim = Simulator(lib)
    async with sim.serve() as url:
        report, _, _ = await run_once(
            sim,
            url,
            key,
            load_rules(RULES),
            asset_ids=[ids["loose"], "00000000-0000-4000-8000-00000000dead"],
        )
    assert report.assets_in_scope == 1
    assert lib.asset_tags(ids["loose"]) == {"autotag_output_unknown"}
    assert lib.asset_tags(ids["meme"]) == {"meme"}  # outside the run
    assert any(w["kind"] == "unknown_asset_id" for w in report.warnings)


async def test_generated_library_is_read_in_o_pages_and_converges() -> None:
    lib = generate_library(5000, seed=7)
    key = generator_key(lib)
    sim = Simulator(lib)
    rules = load_rules(RULES)
    cache = AlbumCache()
    async with sim.serve() as url:
        first, requests, writes = await run_once(sim, url, key, rules, cache=cache)
        assert first.status is RunStatus.SUCCESS, first.errors[:5]
        reads = requests - writes
        assert reads < 100, first.api.by_endpoint
        assert writes > 0
        second, requests, writes = await run_once(sim, url, key, rules, cache=cache)
        assert second.status is RunStatus.SUCCESS
        assert writes == 0, second.changes
        assert requests < 100
    assert_no_violations(sim)
