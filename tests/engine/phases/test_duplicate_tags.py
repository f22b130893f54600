"""Phase 3: classification tags synced across duplicates; conflicts flagged and cleared."""

import re

from custom_components.immich_autotag.engine.phases import duplicate_tags
from custom_components.immich_autotag.engine.rules import (
    Classification,
    Conversion,
    Rule,
    Rules,
)

from ..builders import LibraryBuilder

CONFLICT = "autotag_output_duplicate_asset_classification_conflict"
PREFIX = CONFLICT + "_"
RULES = Rules(
    classification=Classification(
        rules=(
            Rule(tag_names=("autotag_input_meme",)),
            Rule(tag_names=("autotag_input_ignore", "people")),
            Rule(album_name_patterns=(re.compile(r"^\d{4}"),)),
        )
    )
)


def test_single_set_copied_to_members_without_one() -> None:
    b = LibraryBuilder()
    b.asset(duplicate_id="d1", tags=("autotag_input_meme", "holiday"))
    c = b.asset(duplicate_id="d1")
    e = b.asset(duplicate_id="d1", tags=("autotag_input_meme",))
    state = b.state()
    duplicate_tags.run(state, RULES)
    assert state.tag_adds == {"autotag_input_meme": {c}}
    assert not state.has_tag(c, "holiday")  # only classification tags are synced
    assert state.has_tag(e, "autotag_input_meme")
    assert state.counters["duplicate_conflicts"] == 0


def test_descendant_counts_as_carrying_the_tag() -> None:
    b = LibraryBuilder()
    b.asset(duplicate_id="d1", tags=("people/anna",))
    c = b.asset(duplicate_id="d1", tags=("people",))
    state = b.state()
    duplicate_tags.run(state, RULES)
    assert not any(state.tag_adds.values())
    assert state.has_tag(c, "people")


def test_conflict_tags_every_in_scope_member() -> None:
    b = LibraryBuilder()
    a = b.asset(duplicate_id="d1", tags=("autotag_input_meme",))
    c = b.asset(duplicate_id="d1", tags=("autotag_input_ignore",))
    theirs = b.asset(duplicate_id="d1", owned=False)
    empty = b.asset(duplicate_id="d1")
    state = b.state()
    duplicate_tags.run(state, RULES)
    assert state.tagged(CONFLICT) == {a, c, empty}
    assert state.tagged(PREFIX + "d1") == {a, c, empty}
    assert theirs not in state.tagged(CONFLICT)
    assert not state.has_tag(empty, "autotag_input_meme")
    assert state.counters["duplicate_conflicts"] == 1


def test_out_of_scope_member_counts_for_the_comparison() -> None:
    b = LibraryBuilder()
    b.asset(duplicate_id="d1", tags=("autotag_input_meme",), owned=False)
    c = b.asset(duplicate_id="d1")
    state = b.state()
    duplicate_tags.run(state, RULES)
    assert state.has_tag(c, "autotag_input_meme")


def test_conflict_tags_removed_when_resolved_and_orphan_group_tag_deleted() -> None:
    b = LibraryBuilder()
    a = b.asset(duplicate_id="d1", tags=("autotag_input_meme", CONFLICT, PREFIX + "d1"))
    c = b.asset(duplicate_id="d1", tags=("autotag_input_meme", CONFLICT, PREFIX + "d1"))
    state = b.state()
    duplicate_tags.run(state, RULES)
    assert not state.tagged(CONFLICT)
    assert not state.tagged(PREFIX + "d1")
    assert state.tag_removes[CONFLICT] == {a, c}
    assert state.tag_deletes == {PREFIX + "d1"}


def test_tags_of_a_group_that_no_longer_exists_are_removed() -> None:
    b = LibraryBuilder()
    a = b.asset(tags=(CONFLICT, PREFIX + "gone"))
    old = b.asset(duplicate_id="d2", tags=("autotag_input_meme", CONFLICT, PREFIX + "gone"))
    b.asset(duplicate_id="d2", tags=("autotag_input_ignore",))
    state = b.state()
    duplicate_tags.run(state, RULES)
    assert not state.has_tag(a, CONFLICT)
    assert state.tagged(PREFIX + "gone") == set()
    assert state.tagged(PREFIX + "d2") == {old, old + 1}
    assert state.tag_deletes == {PREFIX + "gone"}
    assert state.has_tag(old, CONFLICT)


def test_group_tag_kept_while_an_out_of_scope_asset_carries_it() -> None:
    b = LibraryBuilder()
    a = b.asset(tags=(PREFIX + "gone",))
    b.asset(tags=(PREFIX + "gone",), owned=False)
    state = b.state()
    duplicate_tags.run(state, RULES)
    assert not state.has_tag(a, PREFIX + "gone")
    assert not state.tag_deletes


def test_stable_conflict_is_no_change() -> None:
    b = LibraryBuilder()
    b.asset(duplicate_id="d1", tags=("autotag_input_meme", CONFLICT, PREFIX + "d1"))
    b.asset(duplicate_id="d1", tags=("autotag_input_ignore", CONFLICT, PREFIX + "d1"))
    state = b.state()
    duplicate_tags.run(state, RULES)
    assert not any(state.tag_adds.values())
    assert not any(state.tag_removes.values())
    assert not state.tag_deletes
    assert state.counters["duplicate_conflicts"] == 1


def test_copied_tag_that_a_move_converts_is_converted_in_the_same_run() -> None:
    b = LibraryBuilder()
    b.asset(duplicate_id="d1", tags=("autotag_input_meme",), owned=False)
    c = b.asset(duplicate_id="d1")
    state = b.state()
    rules = Rules(
        conversions=(
            Conversion(
                source=Rule(tag_names=("autotag_input_meme",)),
                destination_albums=("autotag_input_meme",),
            ),
        ),
        classification=RULES.classification,
    )
    duplicate_tags.run(state, rules)
    assert not state.has_tag(c, "autotag_input_meme")
    assert state.members("new:autotag_input_meme") == {c}
    assert not any(state.tag_adds.values())
