"""Scope: owned assets passing filters, restricted to requested ids."""

import re

from custom_components.immich_autotag.engine.rules import Filters, Rule, Rules
from custom_components.immich_autotag.engine.scope import compute_scope, unknown_asset_ids

from .builders import LibraryBuilder


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
