"""Safety properties over generated libraries and rule variants (docs/engine.md#safety).

- no asset is deleted, trashed or changes visibility;
- no album that is not temporary is deleted;
- tags and album memberships the rules do not own are untouched;
- out-of-scope assets (other owners, filtered out, trashed) are unchanged;
- dry runs never write.

"Owned by the rules", derived from the rules alone:
- tags: the output tags, the per-group conflict tags (by prefix), conversion destination
  tags, conversion source tags (a move removes them; with their descendants) and the tags of
  classification rules (duplicate sync copies them; with their descendants);
- albums (by name): temporary albums, conversion destination albums, albums matching a
  conversion source pattern when `remove_from_source_albums`, and albums matching a
  classification pattern (album assignment targets).
No variant enables album permissions, so album shares are never owned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.immich_autotag.engine.report import RunStatus
from custom_components.immich_autotag.engine.rules import Rules, is_temp_album
from tests.sim.generator import generate_library, generator_key
from tests.sim.server import Simulator, assert_no_violations

from .common import RULES_VARIANTS, Built, canonical, my_tags, rule_matches, rules, run_sim


def _carries(tag: str, paths: set[str]) -> bool:
    return any(tag == p or tag.startswith(p + "/") for p in paths)


def owned_tag(the_rules: Rules, tag: str) -> bool:
    """Whether the rules may add or remove this tag path."""
    fixed = set(the_rules.output_tags())
    for conversion in the_rules.conversions:
        fixed |= set(conversion.destination_tags)
    closure = set(the_rules.classification_tags)
    for conversion in the_rules.conversions:
        closure |= set(conversion.source.tag_names)
    prefix = the_rules.duplicates.classification_conflict_prefix
    return tag in fixed or _carries(tag, closure) or bool(prefix and tag.startswith(prefix))


def owned_album(the_rules: Rules, name: str) -> bool:
    """Whether the rules may add to or remove from albums of this name."""
    if is_temp_album(name):
        return True
    for conversion in the_rules.conversions:
        if name in conversion.destination_albums:
            return True
        if conversion.remove_from_source_albums and conversion.source.album_matches(name):
            return True
    return any(rule.album_matches(name) for rule in the_rules.classification.rules)


def out_of_scope(the_rules: Rules, entry: dict[str, Any]) -> bool:
    """Other owners, trashed, or filtered out (filters judged on the library as loaded)."""
    if entry["owner"] != "me@example.com" or entry["trashed"]:
        return True
    tags, albums = my_tags(entry), entry["albums"]
    filters = the_rules.filters
    if filters.filter_in and not any(rule_matches(r, tags, albums) for r in filters.filter_in):
        return True
    return any(rule_matches(r, tags, albums) for r in filters.filter_out)


def check_safety(the_rules: Rules, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Assert every safety property between two canonical dumps."""
    assert set(after["assets"]) == set(before["assets"]), "an asset appeared or vanished"
    for asset_id, was in before["assets"].items():
        now = after["assets"][asset_id]
        assert (now["trashed"], now["visibility"], now["owner"]) == (
            was["trashed"],
            was["visibility"],
            was["owner"],
        ), asset_id
        if out_of_scope(the_rules, was):
            assert now == was, f"out-of-scope asset {asset_id} changed: {was} -> {now}"
            continue
        for tag in set(was["tags"]) ^ set(now["tags"]):
            owner, _, path = tag.partition(":")
            assert owner == "me@example.com", f"{asset_id}: another user's tag {tag} changed"
            assert owned_tag(the_rules, path), f"{asset_id}: tag {path!r} is not the rules'"
        unowned_was = sorted(a for a in was["albums"] if not owned_album(the_rules, a))
        unowned_now = sorted(a for a in now["albums"] if not owned_album(the_rules, a))
        assert unowned_now == unowned_was, f"{asset_id}: albums the rules do not own changed"
        if now["exif"] != was["exif"]:
            assert now["exif"] is not None
            assert was["exif"] is None or now["exif"] < was["exif"], "dates only move earlier"
    for name, entries in before["albums"].items():
        if is_temp_album(name):
            continue
        now_entries = after["albums"].get(name, [])
        assert len(now_entries) >= len(entries), f"album {name!r} was deleted"
        shares_before = sorted((owner, users) for owner, _, users in entries)
        shares_now = sorted((owner, users) for owner, _, users in now_entries)
        if not owned_album(the_rules, name):
            assert sorted(now_entries) == sorted(entries), f"album {name!r} changed"
        assert shares_now == shares_before, f"album {name!r}: shares changed"


def decorate(built: Built, draw_extra: int) -> None:
    """Legacy objects: a wrong-date temp album, a filtered-out tag, a foreign tag."""
    lib = built.lib
    me = lib.user_by_email("me@example.com")
    alice = lib.user_by_email("alice@example.com")
    mine = sorted(
        (a for a in lib.assets.values() if a.owner_id == me.id and not a.trashed),
        key=lambda a: a.id,
    )
    if mine:
        lib.add_album(me, "2001-01-01-autotag-temp-unclassified", mine[: 1 + draw_extra % 3])
        lib.tag_asset(lib.add_tag(me, "people/family"), *mine[-2:])
        lib.tag_asset(lib.add_tag(alice, "meme"), mine[0])  # alice's tag on my asset
    trashed = lib.add_asset(me, "IMG_20200101_101010.jpg", taken=datetime(2020, 1, 1, 10, 10, 10))
    trashed.trashed = True
    lib.tag_asset(lib.add_tag(me, "meme"), trashed)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    n=st.integers(5, 150),
    seed=st.integers(0, 10_000),
    variant=st.integers(0, len(RULES_VARIANTS) - 1),
    extra=st.integers(0, 5),
)
async def test_safety_properties_hold_on_generated_libraries(
    n: int, seed: int, variant: int, extra: int
) -> None:
    the_rules = rules(RULES_VARIANTS[variant])
    lib = generate_library(n, seed=seed)
    built = Built(lib, generator_key(lib))
    decorate(built, extra)
    before = canonical(lib)
    non_temp_ids = {a.id for a in lib.albums.values() if not is_temp_album(a.name)}
    sim = Simulator(lib)
    async with sim.serve() as url:
        dry, writes = await run_sim(sim, url, built.key, the_rules, dry_run=True)
        assert dry.status is RunStatus.SUCCESS, dry.error_message
        assert writes == 0
        assert sim.stats.writes == 0
        assert canonical(lib) == before

        report, _ = await run_sim(sim, url, built.key, the_rules)
        assert report.status is RunStatus.SUCCESS, report.errors[:5]
        assert report.changes == dry.changes  # the dry run announced exactly this
    assert non_temp_ids <= set(lib.albums), "a non-temporary album was deleted"
    check_safety(the_rules, before, canonical(lib))
    assert_no_violations(sim)


# --- temporary albums that hold assets the run cannot see ----------------------------------


@pytest.mark.parametrize(
    ("who", "version"),
    [
        ("alice", "3.0.3"),
        ("alice", "2.7.3"),
        ("alice", "3.2.2"),
        ("trashed", "3.0.3"),
        ("trashed", "3.2.2"),
        ("filtered", "3.0.3"),
    ],
)
async def test_temp_album_holding_out_of_scope_assets_is_kept(who: str, version: str) -> None:
    the_rules = rules()  # filters out `people/family`
    lib = generate_library(30, seed=4)
    me = lib.user_by_email("me@example.com")
    alice = lib.user_by_email("alice@example.com")
    if who == "alice":
        member = lib.add_asset(alice, "IMG_20200202_101010.jpg")
    else:
        member = lib.add_asset(me, "IMG_20200202_101010.jpg", taken=datetime(2020, 2, 2, 10))
        if who == "trashed":
            member.trashed = True
        else:
            lib.tag_asset(lib.add_tag(me, "people/family"), member)
    album = lib.add_album(me, "1998-02-02-autotag-temp-unclassified", [member])
    sim = Simulator(lib, version=version)
    async with sim.serve() as url:
        report, _ = await run_sim(sim, url, generator_key(lib), the_rules)
    assert report.status is RunStatus.SUCCESS
    assert album.id in lib.albums, "the temp album holding an out-of-scope asset was deleted"
    assert lib.album_assets(album.id) == {member.id}
