"""Phase 7 (album date consistency): spans, threshold, removal when fixed, bad names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from custom_components.immich_autotag.engine.phases import album_dates
from custom_components.immich_autotag.engine.rules import AlbumDateConsistency, Rules
from custom_components.immich_autotag.engine.state import State
from tests.engine.builders import LibraryBuilder

TAG = "autotag_output_album_date_mismatch"
RULES = Rules()


def at(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def one_album(name: str, when: datetime, *, tagged: bool = False) -> tuple[State, int]:
    b = LibraryBuilder()
    n = b.asset(instant=when, tags=(TAG,) if tagged else ())
    b.album(name, n)
    return b.state(), n


# "Album-name dates" table + the classification-regex table's names, threshold 180 days.
@pytest.mark.parametrize(
    ("name", "when", "mismatch"),
    [
        ("2024-07-15 Beach", at(2024, 7, 15), False),
        ("2024-07-15 Beach", at(2025, 1, 11), False),  # 180 days after: still fine
        ("2024-07-15 Beach", at(2025, 1, 12), True),  # 181 days after
        ("2024-07-15 Beach", at(2024, 1, 17), False),  # 180 days before
        ("2024-07-15 Beach", at(2024, 1, 16), True),  # 181 days before
        ("2024-07 Trip", at(2024, 12, 31), False),  # 153 days after the month
        ("2024-07 Trip", at(2025, 1, 28), True),  # 181 days after 31 July
        ("2024 Summer", at(2024, 12, 31), False),  # a year, not just 1 January
        ("2024 Summer", at(2024, 1, 1), False),
        ("2024 Summer", at(2025, 6, 29), False),  # 180 days after 31 December
        ("2024 Summer", at(2025, 6, 30), True),  # 181
        ("2024", at(2023, 7, 4), True),  # 181 days before 1 January
        ("2024", at(2023, 7, 5), False),  # 180
        ("20240715", at(2024, 1, 1), False),  # starts with YYYY: the year 2024
        ("Summer 2024", at(1990, 1, 1), False),  # undated
        ("Holidays", at(1990, 1, 1), False),
    ],
)
def test_album_name_spans(name: str, when: datetime, mismatch: bool) -> None:
    state, n = one_album(name, when)
    album_dates.run(state, RULES)
    assert state.has_tag(n, TAG) is mismatch
    assert state.counters["date_mismatches"] == int(mismatch)
    assert state.notes == []


def test_month_span_edges() -> None:
    # 1 July 2024 minus 181 days is 2 January 2024 (2024 is a leap year).
    state, n = one_album("2024-07 Trip", at(2024, 1, 2))
    album_dates.run(state, RULES)
    assert state.has_tag(n, TAG)
    state, n = one_album("2024-07 Trip", at(2024, 1, 3))
    album_dates.run(state, RULES)
    assert not state.has_tag(n, TAG)


@pytest.mark.parametrize("name", ["2024-13-01 bad", "1999-13-45 x", "2023-02-29 nope"])
def test_unparseable_album_is_reported_once_and_skipped(name: str) -> None:
    b = LibraryBuilder()
    a1 = b.asset(instant=at(1990, 1, 1))
    a2 = b.asset(instant=at(1980, 1, 1), tags=(TAG,))
    album = b.album(name, a1, a2)
    good = b.album("1990 Old", a1)
    state = b.state()
    album_dates.run(state, RULES)
    assert [(x.kind, x.album_id) for x in state.notes] == [("unparseable_album_date", album)]
    assert good in state.lib.albums
    assert not state.has_tag(a1, TAG)  # fits 1990; the bad album does not count
    assert not state.has_tag(a2, TAG)  # no album mismatches it any more
    assert state.counters["date_mismatches"] == 0


def test_local_date_uses_the_asset_zone() -> None:
    # 2024-01-16 23:30Z is 2024-01-17 in Madrid: 180 days before 2024-07-15.
    b = LibraryBuilder()
    n = b.asset(instant=datetime(2024, 1, 16, 23, 30, tzinfo=UTC), time_zone="Europe/Madrid")
    b.album("2024-07-15 Beach", n)
    state = b.state()
    album_dates.run(state, RULES)
    assert not state.has_tag(n, TAG)


def test_reflects_corrected_dates_from_phase_2() -> None:
    state, n = one_album("2019-05-12 Wedding", at(2023, 1, 1), tagged=True)
    state.set_date(n, datetime(2019, 5, 12, tzinfo=UTC))
    album_dates.run(state, RULES)
    assert not state.has_tag(n, TAG)
    assert state.tag_removes == {TAG: {n}}


def test_tag_removed_when_fixed_and_kept_when_still_wrong() -> None:
    b = LibraryBuilder()
    fixed = b.asset(instant=at(2024, 7, 15), tags=(TAG,))
    wrong = b.asset(instant=at(2010, 1, 1), tags=(TAG,))
    undated = b.asset(instant=at(2010, 1, 1), tags=(TAG,))  # in no dated album
    b.album("2024-07-15 Beach", fixed, wrong)
    state = b.state()
    album_dates.run(state, RULES)
    assert state.tagged(TAG) == {wrong}
    assert state.tag_removes == {TAG: {fixed, undated}}
    assert state.tag_adds.get(TAG, set()) == set()
    assert state.counters["date_mismatches"] == 1


def test_mismatch_in_any_album_keeps_the_tag() -> None:
    b = LibraryBuilder()
    n = b.asset(instant=at(2024, 7, 15))
    b.album("2024 Summer", n)
    b.album("2010 Old", n)
    state = b.state()
    album_dates.run(state, RULES)
    assert state.has_tag(n, TAG)


def test_out_of_scope_members_are_never_tagged_or_untagged() -> None:
    b = LibraryBuilder()
    theirs = b.asset(instant=at(2010, 1, 1), owned=False)
    theirs_tagged = b.asset(instant=at(2024, 7, 15), owned=False, tags=(TAG,))
    mine = b.asset(instant=at(2010, 1, 1))
    b.album("2024-07-15 Beach", theirs, theirs_tagged, mine)
    state = b.state()
    album_dates.run(state, RULES)
    assert state.tag_adds == {TAG: {mine}}
    assert state.tag_removes == {}
    assert state.counters["date_mismatches"] == 1


def test_temp_unloaded_and_deleted_albums_are_ignored() -> None:
    b = LibraryBuilder()
    n = b.asset(instant=at(2010, 1, 1))
    b.album("2024-07-15-autotag-temp-unclassified", n)
    b.album("2024-07-15 Beach", loaded=False)
    gone = b.album("2023-01-01-autotag-temp-unclassified")
    state = b.state()
    state.delete_album(gone)
    album_dates.run(state, RULES)
    assert not state.has_tag(n, TAG)
    assert state.notes == []


def test_albums_planned_by_earlier_phases_count() -> None:
    b = LibraryBuilder()
    n = b.asset(instant=at(2010, 1, 1))
    state = b.state()
    state.add_to_album(state.album_for("2024-07 Trip"), [n])
    album_dates.run(state, RULES)
    assert state.has_tag(n, TAG)


def test_removal_planned_by_earlier_phases_counts() -> None:
    b = LibraryBuilder()
    n = b.asset(instant=at(2010, 1, 1), tags=(TAG,))
    album = b.album("2024-07 Trip", n)
    state = b.state()
    state.remove_from_album(album, [n])
    album_dates.run(state, RULES)
    assert not state.has_tag(n, TAG)


def test_threshold_and_tag_name_are_options() -> None:
    rules = Rules(
        album_date_consistency=AlbumDateConsistency(threshold_days=0, mismatch_tag="x/late")
    )
    state, n = one_album("2024-07-15 Beach", at(2024, 7, 16))
    album_dates.run(state, rules)
    assert state.has_tag(n, "x/late")
    assert state.tag_adds == {"x/late": {n}}


def test_disabled_changes_nothing() -> None:
    rules = Rules(album_date_consistency=AlbumDateConsistency(enabled=False))
    state, _ = one_album("2024-07-15 Beach", at(2010, 1, 1), tagged=True)
    album_dates.run(state, rules)
    assert state.tag_adds == {}
    assert state.tag_removes == {}
    assert "date_mismatches" not in state.counters


def test_idempotent_after_applying() -> None:
    b = LibraryBuilder()
    late = b.asset(instant=at(2010, 1, 1), asset_id="late")
    ok = b.asset(instant=at(2024, 7, 1), tags=(TAG,), asset_id="ok")
    b.album("2024-07 Trip", late, ok)
    state = b.state()
    album_dates.run(state, RULES)
    assert state.tag_adds == {TAG: {late}}
    assert state.tag_removes == {TAG: {ok}}

    b2 = LibraryBuilder()
    late2 = b2.asset(instant=at(2010, 1, 1), asset_id="late", tags=(TAG,))
    ok2 = b2.asset(instant=at(2024, 7, 1), asset_id="ok")
    b2.album("2024-07 Trip", late2, ok2)
    again = b2.state()
    album_dates.run(again, RULES)
    assert again.tag_adds == {}
    assert again.tag_removes == {}
    assert again.counters["date_mismatches"] == 1
