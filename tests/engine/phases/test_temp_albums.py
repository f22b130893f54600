"""Phase 6: per-day temporary albums for unclassified assets; cleanup; deletion of empties."""

import re
from datetime import UTC, datetime

from custom_components.immich_autotag.engine.phases import temp_albums
from custom_components.immich_autotag.engine.rules import Classification, Rule, Rules
from custom_components.immich_autotag.engine.state import NEW_ALBUM_PREFIX, Status

from ..builders import OTHER, LibraryBuilder

RULES = Rules(
    classification=Classification(rules=(Rule(album_name_patterns=(re.compile(r"^\d{4}"),)),))
)
OFF = Rules(classification=RULES.classification, create_album_from_date_if_missing=False)
T = "-autotag-temp-unclassified"
LATE = datetime(2020, 1, 1, 23, 30, tzinfo=UTC)


def test_unclassified_asset_goes_to_its_local_date_album() -> None:
    b = LibraryBuilder()
    a = b.asset(instant=LATE, time_zone="Europe/Madrid")  # 2020-01-02 00:30 in Madrid
    c = b.asset(instant=LATE, time_zone=None)
    state = b.state()
    temp_albums.run(state, RULES)
    assert state.members(NEW_ALBUM_PREFIX + "2020-01-02" + T) == {a}
    assert state.members(NEW_ALBUM_PREFIX + "2020-01-01" + T) == {c}


def test_corrected_date_decides_the_album() -> None:
    b = LibraryBuilder()
    a = b.asset(instant=LATE)
    wrong = b.album("2020-01-01" + T, a)
    state = b.state()
    state.set_date(a, datetime(2019, 5, 12, tzinfo=UTC))
    temp_albums.run(state, RULES)
    assert state.albums_of(a) == {NEW_ALBUM_PREFIX + "2019-05-12" + T}
    assert state.album_deletes == {wrong}


def test_existing_own_oldest_album_used_not_foreign() -> None:
    b = LibraryBuilder()
    a = b.asset(instant=LATE)
    c = b.asset(instant=LATE)
    foreign = b.album("2020-01-01" + T, owner=OTHER, created_at="2000-01-01T00:00:00.000Z")
    old = b.album("2020-01-01" + T, a, created_at="2020-01-01T00:00:00.000Z")
    newer = b.album("2020-01-01" + T, c, created_at="2021-01-01T00:00:00.000Z")
    state = b.state()
    temp_albums.run(state, RULES)
    assert state.members(old) == {a, c}
    assert state.members(newer) == set()
    assert state.album_deletes == {newer}
    assert foreign not in state.album_deletes
    assert not state.new_albums


def test_classified_and_conflict_assets_are_taken_out_and_empty_albums_deleted() -> None:
    b = LibraryBuilder()
    classified = b.asset(instant=LATE)
    conflict = b.asset(instant=LATE)
    stays = b.asset(instant=LATE)
    temp = b.album("2020-01-01" + T, classified, conflict)
    shared = b.album("2019-01-01" + T, foreign=1)
    kept = b.album("2018-01-01" + T, stays)
    state = b.state()
    state.status[classified] = Status.CLASSIFIED
    state.status[conflict] = Status.CONFLICT
    temp_albums.run(state, OFF)
    assert state.album_removes == {temp: {classified, conflict}}
    assert state.album_deletes == {temp}
    assert shared not in state.album_deletes  # a member we cannot see is still a member
    assert state.members(kept) == {stays}  # creation off: unclassified assets left alone
    assert not state.new_albums


def test_foreign_and_unloaded_temp_albums_are_never_touched() -> None:
    b = LibraryBuilder()
    a = b.asset(instant=LATE)
    b.album("2020-01-01 Trip", a)
    foreign = b.album("2020-01-01" + T, a, owner=OTHER)
    unloaded = b.album("2021-01-01" + T, loaded=False)
    state = b.state()
    temp_albums.run(state, RULES)
    assert foreign in state.albums_of(a)
    assert not state.album_removes
    assert unloaded not in state.album_deletes


def test_stable_when_already_in_place() -> None:
    b = LibraryBuilder()
    a = b.asset(instant=LATE)
    b.album("2020-01-01" + T, a)
    state = b.state()
    temp_albums.run(state, RULES)
    assert not any(state.album_adds.values())
    assert not any(state.album_removes.values())
    assert not state.album_deletes
    assert not state.new_albums


def test_out_of_scope_members_keep_the_album() -> None:
    b = LibraryBuilder()
    theirs = b.asset(instant=LATE, owned=False)
    mine = b.asset(instant=LATE)
    album = b.album("2020-01-01" + T, theirs, mine)
    b.album("2020 Trip", mine)
    state = b.state()
    temp_albums.run(state, RULES)
    assert state.members(album) == {theirs}
    assert not state.album_deletes
