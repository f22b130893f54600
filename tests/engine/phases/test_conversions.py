"""Phase 1: conversions (copy, move, albums created when missing, order, scope)."""

import re

from custom_components.immich_autotag.engine.phases import conversions
from custom_components.immich_autotag.engine.rules import (
    Conversion,
    ConversionMode,
    Rule,
    Rules,
)
from custom_components.immich_autotag.engine.state import NEW_ALBUM_PREFIX

from ..builders import OTHER, LibraryBuilder


def conv(
    source: Rule,
    albums: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
    *,
    mode: ConversionMode = ConversionMode.MOVE,
    remove_albums: bool = False,
) -> Conversion:
    return Conversion(
        source=source,
        destination_albums=albums,
        destination_tags=tags,
        mode=mode,
        remove_from_source_albums=remove_albums,
    )


def test_move_tag_to_missing_album_creates_it() -> None:
    b = LibraryBuilder()
    a = b.asset(tags=("meme",))
    c = b.asset()
    state = b.state()
    conversions.run(state, Rules(conversions=(conv(Rule(tag_names=("meme",)), ("memes",)),)))
    key = NEW_ALBUM_PREFIX + "memes"
    assert state.new_albums == {key: "memes"}
    assert state.members(key) == {a}
    assert not state.has_tag(a, "meme")
    assert state.tag_removes == {"meme": {a}}
    assert c not in state.members(key)


def test_copy_keeps_source_and_adds_tags_and_existing_album() -> None:
    b = LibraryBuilder()
    a = b.asset(tags=("old/x",))
    album = b.album("canonical")
    b.album("canonical", owner=OTHER, created_at="2000-01-01T00:00:00.000Z")
    state = b.state()
    rule = Rule(tag_names=("old",))
    conversions.run(
        state,
        Rules(conversions=(conv(rule, ("canonical",), ("new",), mode=ConversionMode.COPY),)),
    )
    assert state.has_tag(a, "old/x")
    assert state.has_tag(a, "new")
    assert state.members(album) == {a}  # own album preferred over an older foreign one
    assert not state.new_albums


def test_move_removes_descendants_of_matched_source_tag() -> None:
    b = LibraryBuilder()
    a = b.asset(tags=("old/x",))
    state = b.state()
    conversions.run(state, Rules(conversions=(conv(Rule(tag_names=("old",)), tags=("new",)),)))
    assert not state.has_tag(a, "old")
    assert not state.has_tag(a, "old/x")
    assert a in state.tag_removes["old/x"]
    assert state.has_tag(a, "new")


def test_move_keeps_a_source_tag_the_destination_lives_under() -> None:
    b = LibraryBuilder()
    a = b.asset(tags=("meme",))
    state = b.state()
    conversions.run(state, Rules(conversions=(conv(Rule(tag_names=("meme",)), tags=("meme/x",)),)))
    assert state.has_tag(a, "meme/x")
    assert not any(state.tag_removes.values())


def test_destination_album_owned_by_another_user_is_not_used() -> None:
    """Only the key user's albums are written to: a same-named shared album is not."""
    b = LibraryBuilder()
    a = b.asset(tags=("meme",))
    theirs = b.album("memes", owner=OTHER, created_at="2000-01-01T00:00:00.000Z")
    state = b.state()
    conversions.run(state, Rules(conversions=(conv(Rule(tag_names=("meme",)), ("memes",)),)))
    assert state.albums_of(a) == {NEW_ALBUM_PREFIX + "memes"}
    assert theirs not in state.album_adds
    assert state.tag_removes == {"meme": {a}}


def test_move_from_source_albums_only_when_asked() -> None:
    b = LibraryBuilder()
    a = b.asset()
    legacy = b.album("Memes (old)", a)
    src = Rule(album_name_patterns=(re.compile(r"^Memes"),))
    state = b.state()
    conversions.run(state, Rules(conversions=(conv(src, ("autotag_input_meme",)),)))
    assert legacy in state.albums_of(a)
    state = b.state()
    conversions.run(
        state, Rules(conversions=(conv(src, ("autotag_input_meme",), remove_albums=True),))
    )
    assert legacy not in state.albums_of(a)
    assert state.album_removes == {legacy: {a}}
    assert state.members(NEW_ALBUM_PREFIX + "autotag_input_meme") == {a}


def test_conversions_apply_in_order_each_seeing_the_last() -> None:
    b = LibraryBuilder()
    a = b.asset(tags=("a",))
    state = b.state()
    rules = Rules(
        conversions=(
            conv(Rule(tag_names=("a",)), tags=("b",)),
            conv(Rule(tag_names=("b",)), tags=("c",)),
        )
    )
    conversions.run(state, rules)
    assert state.has_tag(a, "c")
    assert not state.has_tag(a, "a")
    assert not state.has_tag(a, "b")
    assert state.tag_adds["c"] == {a}
    assert not state.tag_adds.get("b")


def test_out_of_scope_assets_untouched() -> None:
    b = LibraryBuilder()
    theirs = b.asset(tags=("meme",), owned=False)
    state = b.state()
    conversions.run(state, Rules(conversions=(conv(Rule(tag_names=("meme",)), tags=("x",)),)))
    assert state.has_tag(theirs, "meme")
    assert not any(state.tag_adds.values())


def test_unloaded_destination_album_blocks_the_move() -> None:
    b = LibraryBuilder()
    a = b.asset(tags=("meme",))
    b.album("memes", loaded=False)
    state = b.state()
    conversions.run(state, Rules(conversions=(conv(Rule(tag_names=("meme",)), ("memes",)),)))
    assert state.has_tag(a, "meme")
    assert [n.kind for n in state.notes] == ["album_not_loaded"]


def test_second_pass_is_a_no_op() -> None:
    b = LibraryBuilder()
    a = b.asset(tags=("meme",))
    album = b.album("memes", a)
    state = b.state()
    conversions.run(state, Rules(conversions=(conv(Rule(tag_names=("meme",)), ("memes",)),)))
    assert state.album_adds.get(album, set()) == set()
    rules = Rules(conversions=(conv(Rule(tag_names=("meme",)), ("memes",)),))
    conversions.run(state, rules)
    assert state.tag_removes == {"meme": {a}}
    assert not any(state.album_adds.values())
