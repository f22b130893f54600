"""Capabilities: a plan keeps only what the key may write, and nothing that depends on the rest."""

from __future__ import annotations

import pytest

from custom_components.immich_autotag.engine.permissions import WRITE_PERMISSIONS, Capabilities
from custom_components.immich_autotag.engine.plan import Plan, make_plan
from custom_components.immich_autotag.engine.rules_loader import load_rules

from .builders import LibraryBuilder

RULES = load_rules(
    """
conversions:
  enabled: true
  conversions:
    - source: {tag_names: [meme]}
      destination: {album_names: [memes]}
      mode: move
classification:
  rules:
    - {album_name_patterns: ['^memes$']}
    - {album_name_patterns: ['^\\d{4}-\\d{2}']}
"""
)


def without(*missing: str) -> Capabilities:
    return Capabilities.from_permissions(frozenset(WRITE_PERMISSIONS) - set(missing))


def plan_of(b: LibraryBuilder) -> Plan:
    lib = b.build()
    return make_plan(lib, RULES, frozenset(n for n, r in enumerate(lib.assets) if r.owned))[1]


def test_all_and_every_write_permission_keep_the_whole_plan() -> None:
    b = LibraryBuilder()
    b.asset(tags=("meme",))
    plan = plan_of(b)
    for caps in (Capabilities.from_permissions(frozenset({"all"})), without()):
        assert caps.restrict_plan(plan, b.lib) == plan
        assert caps.disabled() == []
    assert Capabilities.from_permissions(frozenset({"asset.read", "tag.read"})).read_only


@pytest.mark.parametrize("missing", ["album.create", "tag.asset"])
def test_a_move_whose_destination_cannot_be_set_keeps_its_source(missing: str) -> None:
    b = LibraryBuilder()
    meme = b.asset(tags=("meme",))
    plan = plan_of(b)
    assert plan.tag_removes == {"meme": {meme}}
    restricted = without(missing).restrict_plan(plan, b.lib)
    if missing == "album.create":
        assert restricted.album_creates == {}
        assert restricted.tag_removes == {}  # the meme keeps its tag
    else:
        assert restricted.tag_adds == {}
        assert restricted.tag_removes == {}
        assert restricted.album_creates == plan.album_creates


def test_an_album_keeps_existing_while_a_removal_from_it_is_left_out() -> None:
    b = LibraryBuilder()
    photo = b.asset()
    b.album("2020-01 Trip", photo)
    temp = b.album("2020-01-01-autotag-temp-unclassified", photo)
    plan = plan_of(b)
    assert plan.album_deletes == (temp,)
    restricted = without("albumAsset.delete").restrict_plan(plan, b.lib)
    assert restricted.album_removes == {}
    assert restricted.album_deletes == ()
    assert any("albumAsset.delete" in w for w in without("albumAsset.delete").disabled())


def test_missing_tags_are_not_added_without_tag_create() -> None:
    b = LibraryBuilder()
    b.tag("autotag_output_unknown")
    photo = b.asset()
    plan = plan_of(b)
    assert set(plan.tag_adds) >= {"autotag_output_unknown"}
    restricted = without("tag.create").restrict_plan(plan, b.lib)
    assert restricted.tag_creates == ()
    assert set(restricted.tag_adds) == {"autotag_output_unknown"}
    assert restricted.tag_adds["autotag_output_unknown"] == {photo}
