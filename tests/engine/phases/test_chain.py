"""Phases 1, 3, 4, 5, 6 on one State; applying the result and planning again changes nothing."""

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.immich_autotag.engine.library import Library
from custom_components.immich_autotag.engine.phases import (
    album_assignment,
    classification,
    conversions,
    duplicate_tags,
    temp_albums,
)
from custom_components.immich_autotag.engine.rules import (
    Classification,
    Conversion,
    ConversionMode,
    FolderAlbums,
    Rule,
    Rules,
)
from custom_components.immich_autotag.engine.state import NEW_ALBUM_PREFIX, State, Status

from ..builders import ME, OTHER, LibraryBuilder

PHASES = (conversions, duplicate_tags, album_assignment, classification, temp_albums)
T = "-autotag-temp-unclassified"
UNKNOWN = "autotag_output_unknown"
CONFLICT = "autotag_output_conflict"
DUP_CONFLICT = "autotag_output_duplicate_asset_classification_conflict"
DETECTION = "autotag_output_album_detection_conflict"
MEME_RULE = Rule(
    tag_names=("autotag_input_meme",),
    album_name_patterns=(re.compile("^autotag_input_meme$"),),
)
RULES = Rules(
    conversions=(
        Conversion(source=Rule(tag_names=("meme",)), destination_albums=("autotag_input_meme",)),
    ),
    classification=Classification(
        rules=(
            MEME_RULE,
            Rule(tag_names=("autotag_input_ignore",)),
            Rule(album_name_patterns=(re.compile(r"^\d{4}-\d{2}"),)),
        )
    ),
    folder_albums=FolderAlbums(
        enabled=True, excluded_paths=(re.compile("whatsapp", re.IGNORECASE),)
    ),
)


def plan(lib: Library, rules: Rules) -> State:
    state = State(lib, [n for n, rec in enumerate(lib.assets) if rec.owned])
    for phase in PHASES:
        phase.run(state, rules)
    return state


def changes(state: State) -> dict[str, Any]:
    """Everything the State would write; empty means a no-op run."""
    out: dict[str, Any] = {
        "tag_adds": {k: v for k, v in state.tag_adds.items() if v},
        "tag_removes": {k: v for k, v in state.tag_removes.items() if v},
        "tag_deletes": state.tag_deletes,
        "new_albums": state.new_albums,
        "album_adds": {k: v for k, v in state.album_adds.items() if v},
        "album_removes": {k: v for k, v in state.album_removes.items() if v},
        "album_deletes": state.album_deletes,
        "dates": state.dates,
    }
    return {k: v for k, v in out.items() if v}


def materialise(state: State) -> Library:
    """The library as it is once the State's changes are applied (new ids for albums)."""
    lib = state.lib
    users = {ME.id: ME, OTHER.id: OTHER}
    b = LibraryBuilder()
    for n, rec in enumerate(lib.assets):
        b.asset(
            rec.file_name,
            folder=rec.folder,
            instant=state.instant(n),
            time_zone=rec.time_zone,
            duplicate_id=rec.duplicate_id,
            owned=rec.owned,
            asset_id=rec.id,
        )
    for path in sorted((set(lib.tags) | set(state.tag_adds)) - state.tag_deletes):
        b.tag(path, *sorted(state.tagged(path)))
    for key, album in lib.albums.items():
        if key not in state.album_deletes:
            b.album(
                album.name,
                *sorted(state.members(key)),
                owner=users[album.owner_id],
                created_at=album.created_at,
                loaded=key in lib.album_members,
                foreign=lib.album_foreign.get(key, 0),
            )
    for key, name in state.new_albums.items():
        b.album(name, *sorted(state.members(key)), created_at="2030-01-01T00:00:00.000Z")
    return b.build()


def names(state: State, asset: int) -> set[str]:
    return {state.album_name(k) for k in state.albums_of(asset)}


def test_chain_outcomes_and_idempotency() -> None:
    b = LibraryBuilder()
    day = datetime(2020, 1, 1, 12, tzinfo=UTC)
    meme = b.asset(duplicate_id="m", tags=("meme",), instant=day)
    meme_dup = b.asset(duplicate_id="m", instant=day)
    trip_member = b.asset(duplicate_id="t")
    trip_dup = b.asset(duplicate_id="t", tags=(UNKNOWN,))
    b.album("2020-05 Trip", trip_member)
    tag_conflict_1 = b.asset(duplicate_id="c", tags=("autotag_input_meme",))
    tag_conflict_2 = b.asset(duplicate_id="c", tags=("autotag_input_ignore",))
    folder = b.asset(folder="/photos/2021-03-04 Party")
    wrong_temp = b.asset(instant=day)
    b.album("2019-12-31" + T, wrong_temp)
    two_albums = b.asset()
    b.album("2020-06 A", two_albums)
    b.album("2020-07 B", two_albums)
    stale_unknown = b.asset(tags=("autotag_input_ignore", UNKNOWN))
    theirs = b.asset(tags=("meme",), owned=False)
    detection = b.asset(folder="/p/2020-01-01 A/2020-02-02 B", instant=day)
    now_classified = b.asset(tags=("autotag_input_ignore",))
    emptied = b.album("2018-01-01" + T, now_classified)
    state = plan(b.build(), RULES)

    assert names(state, meme) == {"autotag_input_meme"}
    assert not state.has_tag(meme, "meme")
    assert names(state, meme_dup) == {"autotag_input_meme"}
    assert names(state, trip_dup) == {"2020-05 Trip"}
    assert not state.has_tag(trip_dup, UNKNOWN)
    assert state.tagged(DUP_CONFLICT) == {tag_conflict_1, tag_conflict_2}
    assert state.counters["duplicate_conflicts"] == 1
    assert names(state, folder) == {"2021-03-04 Party"}
    assert names(state, wrong_temp) == {"2020-01-01" + T}
    assert state.status[two_albums] is Status.CONFLICT
    assert state.tagged(CONFLICT) == {two_albums}
    assert not state.has_tag(stale_unknown, UNKNOWN)
    assert state.has_tag(theirs, "meme")
    assert theirs not in state.status
    assert state.has_tag(detection, DETECTION)
    assert names(state, detection) == {"2020-01-01" + T}
    assert state.tagged(UNKNOWN) == {wrong_temp, detection}
    assert emptied in state.album_deletes
    assert NEW_ALBUM_PREFIX + "2019-12-31" + T not in state.new_albums

    again = plan(materialise(state), RULES)
    assert changes(again) == {}
    assert again.status == state.status


def _meme_rules(source: tuple[str, ...], to_tag: bool) -> Rules:
    conversion = Conversion(
        source=Rule(tag_names=source),
        destination_tags=("autotag_input_meme",) if to_tag else (),
        destination_albums=() if to_tag else ("autotag_input_meme",),
    )
    return Rules(conversions=(conversion,), classification=Classification(rules=(MEME_RULE,)))


@pytest.mark.parametrize(
    ("source", "to_tag"),
    [(("meme",), False), (("meme",), True), (("meme", "autotag_input_meme"), False)],
)
def test_no_oscillation_between_move_conversions_and_duplicate_sync(
    source: tuple[str, ...], to_tag: bool
) -> None:
    b = LibraryBuilder()
    tagged = b.asset(duplicate_id="d", tags=("meme",))
    other = b.asset(duplicate_id="d")
    rules = _meme_rules(source, to_tag)
    first = plan(b.build(), rules)
    assert first.status == {tagged: Status.CLASSIFIED, other: Status.CLASSIFIED}
    assert not first.tagged(DUP_CONFLICT)
    assert not first.has_tag(tagged, "meme")
    second = plan(materialise(first), rules)
    assert changes(second) == {}
    assert second.status == first.status


def test_out_of_scope_source_tag_on_a_duplicate_converges_in_one_run() -> None:
    b = LibraryBuilder()
    b.asset(duplicate_id="d", tags=("autotag_input_meme",), owned=False)
    mine = b.asset(duplicate_id="d")
    rules = _meme_rules(("autotag_input_meme",), to_tag=False)
    first = plan(b.build(), rules)
    assert names(first, mine) == {"autotag_input_meme"}
    assert not first.has_tag(mine, "autotag_input_meme")
    assert changes(plan(materialise(first), rules)) == {}


TAGS = ("meme", "autotag_input_meme", "autotag_input_ignore/x", UNKNOWN, CONFLICT, DUP_CONFLICT)
ALBUMS = ("2020-05 Trip", "2020-06 Other", "autotag_input_meme", "Favourites", "2020-01-01" + T)
FOLDERS = ("/photos", "/photos/2020-05-01 Party", "/p/2020-01-01 A/2020-02-02 B", "/x/2020-05 Trip")
asset_strategy = st.tuples(
    st.sampled_from((None, "d1", "d2")),
    st.frozensets(st.sampled_from(TAGS), max_size=3),
    st.frozensets(st.sampled_from(ALBUMS), max_size=2),
    st.sampled_from(FOLDERS),
    st.booleans(),
    st.integers(min_value=0, max_value=3),
)
RULES_WITH_COPY = Rules(
    conversions=(
        *RULES.conversions,
        Conversion(
            source=Rule(album_name_patterns=(re.compile("^Favourites$"),)),
            destination_tags=("autotag_input_ignore",),
            mode=ConversionMode.COPY,
        ),
    ),
    classification=RULES.classification,
    folder_albums=RULES.folder_albums,
)


@settings(max_examples=80, deadline=None)
@given(st.lists(asset_strategy, min_size=1, max_size=6))
def test_property_second_plan_is_empty(
    specs: list[tuple[str | None, frozenset[str], frozenset[str], str, bool, int]],
) -> None:
    b = LibraryBuilder()
    members: dict[str, list[int]] = {}
    for dup, tags, albums, folder, owned, day in specs:
        n = b.asset(
            folder=folder,
            duplicate_id=dup,
            tags=tuple(sorted(tags)),
            owned=owned or day == 0,
            instant=datetime(2020, 1, 1 + day, 12, tzinfo=UTC),
        )
        for name in albums:
            members.setdefault(name, []).append(n)
    for name, assets in sorted(members.items()):
        b.album(name, *assets)
    first = plan(b.build(), RULES_WITH_COPY)
    again = plan(materialise(first), RULES_WITH_COPY)
    assert changes(again) == {}
    assert again.status == first.status
