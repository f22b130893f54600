"""Rule matching: tag closure, album patterns (never temp albums), links, require_all."""

import re

from custom_components.immich_autotag.engine.matching import (
    classifying_albums,
    could_match,
    matches_any,
    pattern_matches,
    rule_matches,
)
from custom_components.immich_autotag.engine.rules import Rule

from .builders import LibraryBuilder


def rule(
    tags: tuple[str, ...] = (),
    patterns: tuple[str, ...] = (),
    links: tuple[str, ...] = (),
    *,
    require_all: bool = False,
) -> Rule:
    return Rule(
        tag_names=tags,
        album_name_patterns=tuple(re.compile(p) for p in patterns),
        asset_links=frozenset(links),
        require_all=require_all,
    )


def test_tag_matches_through_descendant_only_exact_names() -> None:
    b = LibraryBuilder()
    a = b.asset(tags=("events/party",))
    c = b.asset(tags=("eventsx",))
    state = b.state()
    m = rule_matches(state, rule(tags=("events", "other")), a)
    assert m.matched
    assert m.tags == ("events",)
    assert not rule_matches(state, rule(tags=("events",)), c)
    assert not rule_matches(state, rule(tags=("events/party/x",)), a)


def test_album_pattern_matches_by_re_match_and_reports_keys() -> None:
    b = LibraryBuilder()
    a = b.asset()
    k1 = b.album("2024-07-15 Beach", a)
    b.album("Summer 2024-07", a)
    state = b.state()
    m = rule_matches(state, rule(patterns=(r"\d{4}-\d{2}",)), a)
    assert m.matched
    assert m.albums == (k1,)
    assert m.album_names(state) == {"2024-07-15 Beach"}


def test_temporary_albums_never_match() -> None:
    b = LibraryBuilder()
    a = b.asset()
    b.album("2024-07-15-autotag-temp-unclassified", a)
    state = b.state()
    assert not rule_matches(state, rule(patterns=(r"^\d{4}",)), a)
    assert classifying_albums(state, a) == []
    assert not pattern_matches(
        [rule(patterns=(r"^\d{4}",))], "2024-07-15-autotag-temp-unclassified"
    )
    assert pattern_matches([rule(patterns=(r"^\d{4}",))], "2024-07-15 Beach")


def test_planned_album_membership_counts() -> None:
    b = LibraryBuilder()
    a = b.asset()
    state = b.state()
    key = state.album_for("autotag_input_meme")
    state.add_to_album(key, [a])
    m = rule_matches(state, rule(patterns=("^autotag_input_meme$",)), a)
    assert m.albums == (key,)


def test_asset_links_are_case_insensitive_ids() -> None:
    b = LibraryBuilder()
    a = b.asset(asset_id="ABCDEF00-0000-4000-8000-000000000001")
    c = b.asset()
    state = b.state()
    r = rule(links=("abcdef00-0000-4000-8000-000000000001",))
    m = rule_matches(state, r, a)
    assert m.matched
    assert m.linked
    assert not rule_matches(state, r, c)


def test_require_all_needs_every_listed_kind() -> None:
    b = LibraryBuilder()
    both = b.asset(tags=("meme",))
    tag_only = b.asset(tags=("meme",))
    album_only = b.asset()
    b.album("memes", both, album_only)
    state = b.state()
    strict = rule(tags=("meme",), patterns=("^memes$",), require_all=True)
    loose = rule(tags=("meme",), patterns=("^memes$",))
    assert rule_matches(state, strict, both).matched
    assert not rule_matches(state, strict, tag_only)
    assert not rule_matches(state, strict, album_only)
    assert rule_matches(state, loose, tag_only).matched
    assert rule_matches(state, loose, album_only).matched


def test_matches_any() -> None:
    b = LibraryBuilder()
    a = b.asset(tags=("x",))
    state = b.state()
    assert matches_any(state, [rule(tags=("y",)), rule(tags=("x",))], a)
    assert not matches_any(state, [rule(tags=("y",))], a)
    assert not matches_any(state, [], a)


def test_could_match_holds_exactly_the_assets_a_rule_may_match() -> None:
    """Every asset a rule matches is a candidate, through each kind of criterion and the
    state's planned changes (tag removed, album planned), for both `require_all` modes."""
    b = LibraryBuilder()
    tagged = b.asset(tags=("events/party",))
    untagged_now = b.asset(tags=("events",))
    in_album = b.asset()
    in_temp = b.asset()
    linked = b.asset(asset_id="ABCDEF00-0000-4000-8000-00000000000A")
    planned = b.asset()
    nothing = b.asset(tags=("other",))
    b.album("2024-07-15 Beach", in_album)
    b.album("2024-07-15-autotag-temp-unclassified", in_temp)
    state = b.state()
    state.remove_tag("events", [untagged_now])
    state.add_to_album(state.album_for("2024-08-01 Hike"), [planned])
    rules = [
        rule(tags=("events",)),
        rule(patterns=(r"^\d{4}",), links=("abcdef00-0000-4000-8000-00000000000a",)),
        rule(tags=("events",), patterns=(r"^\d{4}",), require_all=True),
    ]
    candidates = could_match(state, rules)
    assert candidates == {tagged, in_album, linked, planned}
    for asset in (tagged, untagged_now, in_album, in_temp, linked, planned, nothing):
        matched = any(rule_matches(state, r, asset) for r in rules)
        assert matched == (asset in candidates)
    assert could_match(state, []) == set()
