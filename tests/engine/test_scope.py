"""Scope: owned assets passing filters, restricted to requested ids."""

import re

import pytest

from custom_components.immich_autotag.engine.rules import Filters, Rule, Rules
from custom_components.immich_autotag.engine.scope import (
    InvalidAssetIdError,
    compute_scope,
    parse_asset_ids,
    unknown_asset_ids,
)
from custom_components.immich_autotag.engine.state import State

from .builders import OTHER, LibraryBuilder


def test_only_owned_assets() -> None:
    b = LibraryBuilder()
    mine = b.asset()
    b.asset(owned=False)
    assert compute_scope(b.build(), Rules(), None) == {mine}


def test_filter_in_by_tag_album_or_link() -> None:
    b = LibraryBuilder()
    tagged = b.asset(tags=("keep",))
    in_album = b.asset()
    linked = b.asset(asset_id="00000000-0000-4000-8000-0000000000aa")
    b.asset()
    b.album("Keep me", in_album)
    rules = Rules(
        filters=Filters(
            filter_in=(
                Rule(tag_names=("keep",)),
                Rule(album_name_patterns=(re.compile("^Keep"),)),
                Rule(asset_links=frozenset({"00000000-0000-4000-8000-0000000000aa"})),
            )
        )
    )
    assert compute_scope(b.build(), rules, None) == {tagged, in_album, linked}


def test_filter_out_wins() -> None:
    b = LibraryBuilder()
    a = b.asset(tags=("keep",))
    b.asset(tags=("keep", "private/family"))
    rules = Rules(
        filters=Filters(
            filter_in=(Rule(tag_names=("keep",)),),
            filter_out=(Rule(tag_names=("private",)),),
        )
    )
    assert compute_scope(b.build(), rules, None) == {a}


def test_asset_ids_restrict_and_unknown_ids_reported() -> None:
    b = LibraryBuilder()
    a = b.asset(asset_id="00000000-0000-4000-8000-000000000001")
    b.asset(asset_id="00000000-0000-4000-8000-000000000002")
    b.asset(asset_id="00000000-0000-4000-8000-000000000003", owned=False)
    lib = b.build()
    ids = [
        "00000000-0000-4000-8000-000000000001".upper(),
        "00000000-0000-4000-8000-000000000003",
        "00000000-0000-4000-8000-0000000000ff",
    ]
    assert compute_scope(lib, Rules(), ids) == {a}
    assert unknown_asset_ids(lib, ids) == ["00000000-0000-4000-8000-0000000000ff"]
    assert compute_scope(lib, Rules(), []) == frozenset()


@pytest.mark.parametrize(
    "bad",
    [
        "not-a-uuid",
        "",
        "  ",
        "123",
        "{00000000-0000-4000-8000-0000000000aa}",
        "00000000000040008000000000000000aa",
        "urn:uuid:00000000-0000-4000-8000-0000000000aa",
    ],
)
def test_malformed_asset_ids_are_errors_naming_the_value(bad: str) -> None:
    with pytest.raises(InvalidAssetIdError, match=re.escape(repr(bad))):
        parse_asset_ids(["00000000-0000-4000-8000-0000000000aa", bad])


def test_asset_ids_are_normalised() -> None:
    upper = " 00000000-0000-4000-8000-0000000000AA "
    assert parse_asset_ids([upper, upper.lower()]) == ["00000000-0000-4000-8000-0000000000aa"]
    assert parse_asset_ids([]) == []


def test_a_focused_state_limits_album_level_changes_to_its_assets() -> None:
    b = LibraryBuilder()
    mine = b.asset(tags=("group_tag_mine",))
    other = b.asset(tags=("group_tag_other",))
    mine_temp = b.album("2020-01-01-autotag-temp-unclassified", mine)
    other_temp = b.album("2020-01-02-autotag-temp-unclassified", other)
    empty_temp = b.album("2020-01-03-autotag-temp-unclassified")
    lib = b.build()
    state = State(lib, [mine], focused=True)
    state.remove_from_album(mine_temp, [mine])
    state.remove_tag("group_tag_mine", [mine])
    for key in (mine_temp, other_temp, empty_temp):
        state.delete_album(key)
    state.delete_tag("group_tag_mine")
    state.delete_tag("group_tag_other")
    state.set_album_user(other_temp, OTHER.id, "viewer")
    state.set_album_user(mine_temp, OTHER.id, "viewer")
    assert state.album_deletes == {mine_temp}
    assert state.tag_deletes == {"group_tag_mine"}
    assert state.album_users == {mine_temp: {OTHER.id: "viewer"}}
