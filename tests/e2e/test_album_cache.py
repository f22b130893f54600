"""The album membership cache: scoped per server, user and API family; never masks edits."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from custom_components.immich_autotag.engine.album_cache import AlbumCache
from custom_components.immich_autotag.engine.report import RunStatus
from custom_components.immich_autotag.engine.rules_loader import load_rules
from custom_components.immich_autotag.immich.models import Album
from tests.rules_text import DATED_ALBUM_RULE, MEME_MOVE, classification
from tests.sim.library import SimLibrary
from tests.sim.server import Simulator, assert_no_violations

from .command import headless
from .harness import RouteHandler, run_once, wrap_route

MOVE_RULES = MEME_MOVE
RULES = classification(DATED_ALBUM_RULE) + "create_album_from_date_if_missing: true\n"


def two_users() -> tuple[SimLibrary, str, str, str]:
    """Me and Alice share one dated album that holds a photo of each; (lib, keys, Alice's)."""
    lib = SimLibrary()
    me = lib.add_user("me@example.com", "Me")
    alice = lib.add_user("alice@example.com", "Alice")
    my_key = lib.add_api_key(me)
    alice_key = lib.add_api_key(alice)
    mine = lib.add_asset(me, "IMG_20240715_100000.jpg", taken=datetime(2024, 7, 15, 10))
    hers = lib.add_asset(alice, "IMG_20240715_110000.jpg", taken=datetime(2024, 7, 15, 11))
    lib.add_album(me, "2024-07-15 Beach", [mine.id, hers.id], users=[(alice, "editor")])
    return lib, my_key, alice_key, hers.id


def assert_alice_untouched(lib: SimLibrary, hers: str) -> None:
    assert lib.asset_tags(hers) == set()  # classified by the shared dated album
    assert not [a for a in lib.albums.values() if "autotag-temp" in a.name]


async def test_one_users_listing_is_never_reused_for_another() -> None:
    """v3.0 lists only the caller's own assets of a shared album: a listing is per user."""
    lib, my_key, alice_key, hers = two_users()
    sim = Simulator(lib, version="3.0.3")
    rules = load_rules(RULES)
    cache = AlbumCache()  # one cache (one cache file) for both users, as two cron jobs had
    async with sim.serve() as url:
        mine, _, _ = await run_once(sim, url, my_key, rules, cache=cache)
        assert mine.status is RunStatus.SUCCESS, mine.errors
        hers_report, _, writes = await run_once(sim, url, alice_key, rules, cache=cache)
        assert hers_report.status is RunStatus.SUCCESS, hers_report.errors
        assert writes == 0, hers_report.changes
        assert_alice_untouched(lib, hers)
        # Both views stay cached side by side: each user's re-run lists nothing again.
        for key in (my_key, alice_key):
            again, _, _ = await run_once(sim, url, key, rules, cache=cache)
            assert again.api.by_endpoint.get("POST /search/metadata") == 1  # assets only
    assert_no_violations(sim)


async def test_headless_cache_file_keeps_each_users_view(tmp_path: Path) -> None:
    """Two cron jobs on one machine and one server: the default cache file is shared."""
    lib, my_key, alice_key, hers = two_users()
    sim = Simulator(lib, version="3.0.3")
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    async with sim.serve() as url:
        for key in (my_key, alice_key, my_key, alice_key):
            code, out, err = await headless(
                "--url", url, "--api-key", key, "--rules", str(rules), "--json", home=tmp_path
            )
            assert code == 0, err
            assert json.loads(out)["status"] == "success"
        assert_alice_untouched(lib, hers)
    (cache_file,) = (tmp_path / "cache" / "immich-autotag").glob("albums-*.json")
    stored = json.loads(cache_file.read_text())
    assert len(stored["scopes"]) == 2  # one per user, both kept
    assert my_key not in cache_file.read_text()
    assert alice_key not in cache_file.read_text()
    assert_no_violations(sim)


@pytest.mark.parametrize("version", ["2.7.3", "3.0.3", "3.2.2"])
async def test_a_cache_from_another_api_family_or_server_is_not_used(version: str) -> None:
    lib, my_key, _, _ = two_users()
    sim = Simulator(lib, version=version)
    rules = load_rules(RULES)
    cache = AlbumCache()
    async with sim.serve() as url:
        await run_once(sim, url, my_key, rules, cache=cache)
        scope = cache.scope
        assert scope is not None
        assert version[:1] in scope.split("|")[2]
        # The same entries under another family's scope: a server upgrade lists again.
        stored = cache.to_dict()
        other = scope.rsplit("|", 1)[0] + "|v9"
        stored["scopes"] = {other: stored["scopes"][scope]}
        moved = AlbumCache.from_dict(stored)
        before = (
            sim.stats.requests["POST /search/metadata"] + sim.stats.requests["GET /albums/{id}"]
        )
        report, _, _ = await run_once(sim, url, my_key, rules, cache=moved)
        listed = (
            sim.stats.requests["POST /search/metadata"]
            + sim.stats.requests["GET /albums/{id}"]
            - before
        )
        assert report.status is RunStatus.SUCCESS
        assert moved.hits == 0
        assert listed >= 2  # the assets walk and the album listing


def test_old_unscoped_cache_files_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "albums.json"
    path.write_text(json.dumps({"version": 1, "albums": {"a": ["t", 1, ["x"]]}}))
    assert len(AlbumCache.load_file(path)) == 0


def test_two_processes_saving_one_file_keep_both_scopes(tmp_path: Path) -> None:
    """Overlapping cron jobs of two users: the later save keeps the other user's scope."""
    path = tmp_path / "albums.json"
    album = Album(
        id="a1", name="2024", owner_id="me", asset_count=1, updated_at="t", created_at="t"
    )
    first, second = AlbumCache.load_file(path), AlbumCache.load_file(path)
    first.bind("http://immich/api|me|v3.0")
    first.put(album, ["mine"])
    second.bind("http://immich/api|alice|v3.0")
    second.put(album, ["hers"])
    first.save_file(path)
    second.save_file(path)
    merged = AlbumCache.load_file(path)
    for scope, members in (
        ("http://immich/api|me|v3.0", ["mine"]),
        ("http://immich/api|alice|v3.0", ["hers"]),
    ):
        merged.bind(scope)
        assert merged.get(album) == members


async def test_run_two_reads_like_run_three_and_a_concurrent_edit_is_not_masked() -> None:
    """The run records the albums it changed, unless someone else changed them meanwhile."""
    lib = SimLibrary()
    me = lib.add_user("me@example.com", "Me")
    key = lib.add_api_key(me)
    meme = lib.add_asset(me, "IMG_20240715_100000.jpg", taken=datetime(2024, 7, 15, 10))
    late = lib.add_asset(me, "IMG_20240716_100000.jpg", taken=datetime(2024, 7, 16, 10))
    lib.tag_asset(lib.add_tag(me, "meme"), meme)
    target = lib.add_album(me, "autotag_input_meme", [])
    sim = Simulator(lib)
    rules = load_rules(MOVE_RULES)
    cache = AlbumCache()
    listings_until_edit = [0]  # the edit lands right before that many-th next listing

    def edit_before_the_final_listing(handler: RouteHandler) -> RouteHandler:
        async def listing(request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
            listings_until_edit[0] -= 1
            if listings_until_edit[0] == 0:  # someone adds a photo in the Immich app
                target.assets[late.id] = None
                target.updated_ms = lib.tick()  # Immich bumps updatedAt on an addition
            return await handler(request, params)

        return listing

    wrap_route(sim, "GET /albums", edit_before_the_final_listing)
    async with sim.serve() as url:
        first, _, _ = await run_once(sim, url, key, rules, cache=cache)
        assert meme.id in target.assets
        second, _, writes = await run_once(sim, url, key, rules, cache=cache)
        third, _, _ = await run_once(sim, url, key, rules, cache=cache)
        assert (first.status, second.status, third.status) == (RunStatus.SUCCESS,) * 3
        assert writes == 0
        assert second.api.by_endpoint == third.api.by_endpoint  # nothing listed again
        assert "GET /albums" in first.api.by_endpoint
        assert first.changes.get("album_create")  # the temporary album
        # the snapshot's, the re-listing right before creating albums, and the final one
        assert first.api.by_endpoint["GET /albums"] == 3
        assert lib.asset_tags(late.id) == {"autotag_output_unknown"}

        # A run that moves a photo, and the edit lands after its writes, before its listing.
        moved = lib.add_asset(me, "IMG_20240717_100000.jpg", taken=datetime(2024, 7, 17, 10))
        lib.tag_asset(next(t for t in lib.tags.values() if t.value == "meme"), moved)
        listings_until_edit[0] = 2  # the snapshot's listing, then the final one
        await run_once(sim, url, key, rules, cache=cache)
        assert late.id in target.assets
        assert lib.asset_tags(late.id) == {"autotag_output_unknown"}  # that run did not see it
        again, _, _ = await run_once(sim, url, key, rules, cache=cache)
        assert again.status is RunStatus.SUCCESS
        assert lib.asset_tags(late.id) == set()  # now classified by the album it was added to
    assert_no_violations(sim)
