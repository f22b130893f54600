"""Phase 4: albums for unclassified assets from duplicates and folders; conflict tags."""

import re

from custom_components.immich_autotag.engine.phases import album_assignment
from custom_components.immich_autotag.engine.rules import (
    Classification,
    FolderAlbums,
    Rule,
    Rules,
)
from custom_components.immich_autotag.engine.state import NEW_ALBUM_PREFIX
from custom_components.immich_autotag.immich.models import AlbumUser

from ..builders import ME, OTHER, LibraryBuilder

ALBUM_CONFLICT = "autotag_output_duplicate_asset_album_conflict"
DETECTION = "autotag_output_album_detection_conflict"
CLASSIFICATION = Classification(
    rules=(
        Rule(tag_names=("autotag_input_meme",)),
        Rule(album_name_patterns=(re.compile(r"^\d{4}-\d{2}"),)),
    )
)
RULES = Rules(classification=CLASSIFICATION)
FOLDERS = Rules(
    classification=CLASSIFICATION,
    folder_albums=FolderAlbums(
        enabled=True, excluded_paths=(re.compile("whatsapp", re.IGNORECASE),)
    ),
)


def test_unclassified_duplicate_joins_its_duplicates_rule_album() -> None:
    b = LibraryBuilder()
    a = b.asset(duplicate_id="d1")
    c = b.asset(duplicate_id="d1")
    trip = b.album("2020-05 Trip", c)
    b.album("Favourites", c)
    b.album("2020-05-01-autotag-temp-unclassified", c)
    state = b.state()
    album_assignment.run(state, RULES)
    assert state.albums_of(a) == {trip}
    assert not state.tagged(ALBUM_CONFLICT)


def test_duplicates_album_of_another_user_gives_the_name_not_the_album() -> None:
    """docs/engine.md: the tool files into an album the key's user owns, creating its own."""
    b = LibraryBuilder()
    a = b.asset(duplicate_id="d1")
    c = b.asset(duplicate_id="d1", owned=False)
    theirs = b.album("2020-05 Trip", c, owner=OTHER, users=(AlbumUser(ME.id, ME.email, "viewer"),))
    state = b.state()
    album_assignment.run(state, RULES)
    own = NEW_ALBUM_PREFIX + "2020-05 Trip"
    assert state.albums_of(a) == {own}
    assert theirs not in state.album_adds
    assert not state.tagged(ALBUM_CONFLICT)  # one name: no disagreement


def test_folder_album_named_like_another_users_album_is_created_as_own() -> None:
    b = LibraryBuilder()
    a = b.asset(folder="/photos/2020-05-01 Party")
    theirs = b.album("2020-05-01 Party", owner=OTHER, users=(AlbumUser(ME.id, ME.email, "viewer"),))
    state = b.state()
    album_assignment.run(state, FOLDERS)
    assert state.albums_of(a) == {NEW_ALBUM_PREFIX + "2020-05-01 Party"}
    assert theirs not in state.album_adds


def test_classified_assets_are_not_assigned() -> None:
    b = LibraryBuilder()
    a = b.asset(duplicate_id="d1", tags=("autotag_input_meme",))
    c = b.asset(duplicate_id="d1")
    trip = b.album("2020-05 Trip", c)
    state = b.state()
    album_assignment.run(state, RULES)
    assert trip not in state.albums_of(a)


def test_two_candidate_names_assign_nothing_and_flag_the_group() -> None:
    b = LibraryBuilder()
    a = b.asset(duplicate_id="d1")
    c = b.asset(duplicate_id="d1")
    e = b.asset(duplicate_id="d1")
    b.album("2020-05 Trip", c)
    b.album("2020-06 Other", e)
    state = b.state()
    album_assignment.run(state, RULES)
    assert state.albums_of(a) == set()
    assert state.tagged(ALBUM_CONFLICT) == {a, c, e}


def test_same_name_albums_are_one_candidate_own_oldest_used() -> None:
    b = LibraryBuilder()
    a = b.asset(duplicate_id="d1")
    c = b.asset(duplicate_id="d1")
    e = b.asset(duplicate_id="d1")
    newer = b.album("2020-05 Trip", c, created_at="2022-01-01T00:00:00.000Z")
    older = b.album("2020-05 Trip", e, created_at="2021-01-01T00:00:00.000Z")
    state = b.state()
    album_assignment.run(state, RULES)
    assert state.albums_of(a) == {older}
    assert newer not in state.albums_of(a)
    assert not state.tagged(ALBUM_CONFLICT)


def test_album_conflict_tag_removed_when_resolved() -> None:
    b = LibraryBuilder()
    a = b.asset(duplicate_id="d1", tags=(ALBUM_CONFLICT,))
    c = b.asset(duplicate_id="d1", tags=(ALBUM_CONFLICT,))
    lone = b.asset(tags=(ALBUM_CONFLICT,))
    b.album("2020-05 Trip", a, c)
    state = b.state()
    album_assignment.run(state, RULES)
    assert state.tag_removes[ALBUM_CONFLICT] == {a, c, lone}


def test_folder_album_created_when_it_matches_a_rule() -> None:
    b = LibraryBuilder()
    a = b.asset(folder="/photos/2020-05-01 Party/Sub")
    c = b.asset(folder="/photos/2020-05-01 Party/Sub")
    no_rule = b.asset(folder="/photos/2020-05-01x")  # "2020-05-01x" matches ^\d{4}-\d{2}
    excluded = b.asset(folder="/photos/WhatsApp/2020-05-01 x")
    state = b.state()
    album_assignment.run(state, FOLDERS)
    key = NEW_ALBUM_PREFIX + "2020-05-01 Party/Sub"
    assert state.members(key) == {a, c}
    assert state.members(NEW_ALBUM_PREFIX + "2020-05-01x") == {no_rule}
    assert state.albums_of(excluded) == set()


def test_folder_album_must_match_a_classification_pattern() -> None:
    b = LibraryBuilder()
    a = b.asset(folder="/photos/2020-05-01 Party")
    state = b.state()
    rules = Rules(
        classification=Classification(rules=(Rule(tag_names=("x",)),)),
        folder_albums=FolderAlbums(enabled=True),
    )
    album_assignment.run(state, rules)
    assert state.albums_of(a) == set()
    assert not state.new_albums


def test_folder_detection_off_by_default() -> None:
    b = LibraryBuilder()
    a = b.asset(folder="/photos/2020-05-01 Party")
    state = b.state()
    album_assignment.run(state, RULES)
    assert state.albums_of(a) == set()


def test_folder_and_duplicate_candidates_must_agree() -> None:
    b = LibraryBuilder()
    a = b.asset(folder="/photos/2020-05-01 Party", duplicate_id="d1")
    c = b.asset(duplicate_id="d1")
    b.album("2020-06 Other", c)
    state = b.state()
    album_assignment.run(state, FOLDERS)
    assert state.albums_of(a) == set()


def test_folder_album_that_disagrees_with_a_duplicate_flags_the_group() -> None:
    b = LibraryBuilder()
    a = b.asset(folder="/photos/2020-05-01 Party", duplicate_id="d1")
    c = b.asset(folder="/photos/2020-06-01 Other", duplicate_id="d1")
    state = b.state()
    album_assignment.run(state, FOLDERS)
    assert state.albums_of(a) == {NEW_ALBUM_PREFIX + "2020-05-01 Party"}
    assert state.albums_of(c) == {NEW_ALBUM_PREFIX + "2020-06-01 Other"}
    assert state.tagged(ALBUM_CONFLICT) == {a, c}


def test_detection_conflict_tag_added_and_removed() -> None:
    b = LibraryBuilder()
    a = b.asset(folder="/photos/2020-05-01 A/2020-06-01 B")
    fixed = b.asset(folder="/photos/2020-05-01 A", tags=(DETECTION,))
    classified = b.asset(
        folder="/p/2020-05-01 A/2020-06-01 B", tags=(DETECTION, "autotag_input_meme")
    )
    state = b.state()
    album_assignment.run(state, FOLDERS)
    assert state.tagged(DETECTION) == {a}
    assert state.tag_removes[DETECTION] == {fixed, classified}


def test_unloaded_album_is_skipped_with_a_note() -> None:
    b = LibraryBuilder()
    a = b.asset(duplicate_id="d1")
    c = b.asset(duplicate_id="d1")
    b.album("2020-05 Trip", c)
    b.album("2020-05 Trip", created_at="2019-01-01T00:00:00.000Z", loaded=False)
    state = b.state()
    album_assignment.run(state, RULES)
    assert state.albums_of(a) == set()
    assert [n.kind for n in state.notes] == ["album_not_loaded"]


def test_duplicate_of_a_folder_assigned_asset_follows_in_the_same_run() -> None:
    b = LibraryBuilder()
    a = b.asset(duplicate_id="d1")
    c = b.asset(folder="/photos/2020-05-01 Party", duplicate_id="d1")
    state = b.state()
    album_assignment.run(state, FOLDERS)
    key = NEW_ALBUM_PREFIX + "2020-05-01 Party"
    assert state.members(key) == {a, c}
    assert not state.tagged(ALBUM_CONFLICT)
