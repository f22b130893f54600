"""Phase 2 (dates): the reference decision table, DST, leap days, duplicates, scope."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from custom_components.immich_autotag.engine.phases import dates
from custom_components.immich_autotag.engine.rules import (
    DateCorrection,
    DuplicateProcessing,
    Rules,
)
from custom_components.immich_autotag.engine.state import State
from tests.engine.builders import LibraryBuilder

MADRID = "Europe/Madrid"


def rules_for(**options: object) -> Rules:
    """Rules with date correction in Europe/Madrid (and optional threshold overrides)."""
    correction = DateCorrection(timezone=MADRID, **options)  # type: ignore[arg-type]
    return Rules(duplicates=DuplicateProcessing(date_correction=correction))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def written(state: State, asset: int) -> str | None:
    """The dateTimeOriginal the plan would write, as the plan serialises it."""
    value = state.dates.get(asset)
    return None if value is None else value.isoformat(timespec="milliseconds")


def rebuilt(state: State, *, offset_zones: bool = False) -> State:
    """The library as Immich shows it after applying the planned dates.

    `offset_zones`: Immich reports the written offset as the exif zone (`UTC+2`).
    """
    b = LibraryBuilder()
    for n, rec in enumerate(state.lib.assets):
        zone = rec.time_zone
        if offset_zones and n in state.dates:
            offset = state.dates[n].utcoffset()
            assert offset is not None
            minutes = int(offset.total_seconds() // 60)
            sign = "-" if minutes < 0 else "+"
            hours, rest = divmod(abs(minutes), 60)
            zone = "UTC" if not minutes else f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
        b.asset(
            rec.file_name,
            folder=rec.folder,
            instant=state.instant(n),
            time_zone=zone,
            duplicate_id=rec.duplicate_id,
            owned=rec.owned,
            asset_id=rec.id,
        )
    return b.state()


def assert_idempotent(state: State, rules: Rules) -> None:
    for offset_zones in (False, True):
        again = rebuilt(state, offset_zones=offset_zones)
        dates.run(again, rules)
        assert again.dates == {}


# --- the reference table ("Date decisions", zone Europe/Madrid) ---------------------------


@pytest.mark.parametrize(
    ("folder", "name", "immich", "expected"),
    [
        (
            "/p",
            "IMG_20240715_101010.jpg",
            utc(2024, 7, 15, 10, 10, 10),
            "2024-07-15T10:10:10.000+02:00",
        ),
        ("/p", "20170808_121314.jpg", utc(2017, 8, 10, 12), "2017-08-08T12:13:14.000+02:00"),
        ("/p", "IMG-20190512-WA0003.jpg", utc(2023, 1, 1, 12), "2019-05-12T00:00:00.000+02:00"),
        ("/p", "IMG-20150601-WA0002.jpg", utc(2015, 6, 2, 20), "2015-06-01T00:00:00.000+02:00"),
    ],
)
def test_decision_table_single_assets(
    folder: str, name: str, immich: datetime, expected: str
) -> None:
    b = LibraryBuilder()
    n = b.asset(name, folder=folder, instant=immich, time_zone=MADRID)
    state = b.state()
    rules = rules_for()
    dates.run(state, rules)
    assert written(state, n) == expected
    assert state.counters["ambiguous_dates"] == 0
    assert_idempotent(state, rules)


def test_decision_table_duplicate_is_older_and_has_time() -> None:
    b = LibraryBuilder()
    copy = b.asset(
        "DSC0007_copy.jpg", instant=utc(2018, 6, 1, 10, 0, 5), time_zone=MADRID, duplicate_id="g"
    )
    original = b.asset(
        "DSC0007.jpg", instant=utc(2018, 6, 1, 10), time_zone="UTC", duplicate_id="g"
    )
    state = b.state()
    rules = rules_for()
    dates.run(state, rules)
    assert written(state, copy) == "2018-06-01T10:00:00.000+00:00"
    assert written(state, original) is None
    assert_idempotent(state, rules)


def test_decision_table_whatsapp_folder_is_ambiguous() -> None:
    b = LibraryBuilder()
    n = b.asset("DSC0011.jpg", folder="/IMG-20100101-WA0001", instant=utc(2015, 6, 1, 12))
    state = b.state()
    dates.run(state, rules_for())
    assert state.dates == {}
    assert state.counters["ambiguous_dates"] == 1
    assert [(x.kind, x.asset_id) for x in state.notes] == [
        ("ambiguous_date", state.lib.assets[n].id)
    ]
    assert "2010-01-01" in state.notes[0].message


# --- options -------------------------------------------------------------------------------


def test_disabled_changes_nothing() -> None:
    b = LibraryBuilder()
    b.asset("IMG-20190512-WA0003.jpg", instant=utc(2023, 1, 1, 12))
    b.asset("DSC0011.jpg", folder="/IMG-20100101-WA0001", instant=utc(2015, 6, 1, 12))
    state = b.state()
    rules = Rules(duplicates=DuplicateProcessing(date_correction=DateCorrection(enabled=False)))
    dates.run(state, rules)
    assert state.dates == {}
    assert state.counters["ambiguous_dates"] == 0
    assert state.notes == []


def test_extraction_timezone_utc() -> None:
    b = LibraryBuilder()
    n = b.asset("IMG_20240715_101010.jpg", instant=utc(2024, 7, 15, 10, 10, 11))
    state = b.state()
    rules = Rules(duplicates=DuplicateProcessing(date_correction=DateCorrection(timezone="UTC")))
    dates.run(state, rules)
    assert written(state, n) == "2024-07-15T10:10:10.000+00:00"


def test_large_gap_threshold_is_an_option() -> None:
    # WhatsApp midnight 40 h before the Immich date: set with 1.1 days, ambiguous with 2.
    immich = utc(2015, 6, 2, 14)  # 16:00 Madrid; candidate 2015-05-31T22:00Z
    for gap_days, expected in ((1.1, "2015-06-01T00:00:00.000+02:00"), (2.0, None)):
        b = LibraryBuilder()
        n = b.asset("IMG-20150601-WA0002.jpg", instant=immich, time_zone=MADRID)
        state = b.state()
        dates.run(state, rules_for(large_gap_days=gap_days))
        assert written(state, n) == expected
        assert state.counters["ambiguous_dates"] == (expected is None)


# --- what moves and what does not ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "immich"),
    [
        ("IMG_20240720_101010.jpg", utc(2024, 7, 15, 12)),  # name later: never move later
        ("IMG_20240715_101010.jpg", utc(2024, 7, 15, 8, 10, 10)),  # the same instant
        ("IMG_20240715_101010.jpg", utc(2024, 7, 15, 8, 10, 10, 900000)),  # < 1 s apart
        ("IMG_20240715_000000.jpg", utc(2024, 7, 15, 10)),  # midnight, same day
        ("IMG-20240715-WA0001.jpg", utc(2024, 7, 15, 20)),  # WhatsApp, same day
        ("20251315_092429.jpg", utc(2000, 1, 1)),  # impossible date: no candidate
        ("20230229_120000.jpg", utc(2024, 1, 1)),  # no leap day in 2023
        ("DSC0001.jpg", utc(2024, 1, 1)),  # nothing at all
    ],
)
def test_no_change_cases(name: str, immich: datetime) -> None:
    b = LibraryBuilder()
    b.asset(name, instant=immich, time_zone=MADRID)
    state = b.state()
    dates.run(state, rules_for())
    assert state.dates == {}
    assert state.counters["ambiguous_dates"] == 0


def test_one_second_earlier_is_a_change() -> None:
    b = LibraryBuilder()
    n = b.asset("IMG_20240715_101010.jpg", instant=utc(2024, 7, 15, 8, 10, 11), time_zone=MADRID)
    state = b.state()
    dates.run(state, rules_for())
    assert written(state, n) == "2024-07-15T10:10:10.000+02:00"


def test_whatsapp_midnight_a_day_earlier_is_ambiguous() -> None:
    # 25 h later, on the next calendar day, but within 1.1 days: the predecessor gave up.
    b = LibraryBuilder()
    n = b.asset("IMG-20150601-WA0002.jpg", instant=utc(2015, 6, 1, 23), time_zone=MADRID)
    state = b.state()
    dates.run(state, rules_for())
    assert state.dates == {}
    assert state.counters["ambiguous_dates"] == 1
    assert state.notes[0].asset_id == state.lib.assets[n].id


# --- path candidates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "immich", "ambiguous"),
    [
        ("/WhatsApp/IMG-20150601-WA0001", utc(2015, 6, 1, 15), False),  # same day
        ("/WhatsApp/IMG-20150601-WA0001", utc(2015, 5, 31, 12), False),  # not later
        ("/WhatsApp Image 2015-06-01 at 23.00.00", utc(2015, 6, 2, 8), False),  # 11 h apart
        ("/WhatsApp Image 2015-06-01 at 23.00.00", utc(2015, 6, 2, 20), True),  # 23 h apart
        ("/WhatsApp/IMG-20150601-WA0001", utc(2015, 6, 3, 12), True),  # 2.5 days
    ],
)
def test_path_candidates_never_set(folder: str, immich: datetime, ambiguous: bool) -> None:
    b = LibraryBuilder()
    b.asset("DSC0011.jpg", folder=folder, instant=immich, time_zone=MADRID)
    state = b.state()
    dates.run(state, rules_for())
    assert state.dates == {}
    assert state.counters["ambiguous_dates"] == int(ambiguous)


@pytest.mark.parametrize(("tolerance", "ambiguous"), [(4.0, False), (3.0, True)])
def test_precise_immich_date_near_a_midnight(tolerance: float, ambiguous: bool) -> None:
    # A duplicate at midnight in UTC+5 is 21:00 Madrid; the Immich date 00:30 Madrid is
    # the next day, 3.5 h later. With a 1 h minimum gap only the midnight rule can keep it.
    b = LibraryBuilder()
    b.asset("DSC1.jpg", instant=utc(2015, 5, 31, 22, 30), time_zone=MADRID, duplicate_id="g")
    b.asset(
        "DSC2.jpg", instant=utc(2015, 5, 31, 19), time_zone="UTC+5", owned=False, duplicate_id="g"
    )
    state = b.state()
    dates.run(state, rules_for(min_gap_hours=1.0, midnight_tolerance_hours=tolerance))
    assert state.dates == {}
    assert state.counters["ambiguous_dates"] == int(ambiguous)


# --- DST and leap days ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "immich", "expected"),
    [
        ("IMG_20240115_101010.jpg", utc(2024, 1, 15, 10, 10, 10), "2024-01-15T10:10:10.000+01:00"),
        # spring-forward gap (02:00 -> 03:00): 02:30 is read before the jump = 01:30Z
        ("IMG_20240331_023000.jpg", utc(2024, 3, 31, 12), "2024-03-31T03:30:00.000+02:00"),
        ("IMG_20240331_013000.jpg", utc(2024, 3, 31, 12), "2024-03-31T01:30:00.000+01:00"),
        ("IMG_20240331_033000.jpg", utc(2024, 3, 31, 12), "2024-03-31T03:30:00.000+02:00"),
        # fall-back overlap: 02:30 happens twice; the first (earlier) occurrence is taken
        ("IMG_20241027_023000.jpg", utc(2024, 10, 27, 12), "2024-10-27T02:30:00.000+02:00"),
        ("IMG_20241027_033000.jpg", utc(2024, 10, 27, 12), "2024-10-27T03:30:00.000+01:00"),
        ("IMG-20240331-WA0001.jpg", utc(2024, 4, 5), "2024-03-31T00:00:00.000+01:00"),
        ("IMG-20241027-WA0001.jpg", utc(2024, 11, 5), "2024-10-27T00:00:00.000+02:00"),
        # leap days
        ("IMG_20240229_235959.jpg", utc(2024, 3, 5), "2024-02-29T23:59:59.000+01:00"),
        ("IMG-20200229-WA0001.jpg", utc(2020, 3, 5), "2020-02-29T00:00:00.000+01:00"),
    ],
)
def test_dst_and_leap_days(name: str, immich: datetime, expected: str) -> None:
    b = LibraryBuilder()
    n = b.asset(name, instant=immich, time_zone=MADRID)
    state = b.state()
    rules = rules_for()
    dates.run(state, rules)
    assert written(state, n) == expected
    assert_idempotent(state, rules)


def test_fall_back_overlap_candidate_is_not_later_than_second_occurrence() -> None:
    # Immich already holds the second 02:30 (01:30Z); the name's first 02:30 (00:30Z) is
    # 1 h earlier with a time: it moves earlier, never later.
    b = LibraryBuilder()
    n = b.asset("IMG_20241027_023000.jpg", instant=utc(2024, 10, 27, 1, 30), time_zone=MADRID)
    state = b.state()
    dates.run(state, rules_for())
    assert written(state, n) == "2024-10-27T02:30:00.000+02:00"
