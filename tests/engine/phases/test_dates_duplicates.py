"""Phase 2 (dates) across duplicate groups and scope, plus an idempotency property."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.immich_autotag.engine.phases import dates
from custom_components.immich_autotag.engine.phases.dates import (
    CandidateKind,
    DateCandidate,
    Outcome,
    decide,
)
from custom_components.immich_autotag.engine.rules import DateCorrection
from custom_components.immich_autotag.engine.state import State
from tests.engine.builders import LibraryBuilder

from .test_dates import MADRID, assert_idempotent, rebuilt, rules_for, utc, written


def test_out_of_scope_duplicate_is_a_candidate_but_never_changed() -> None:
    b = LibraryBuilder()
    mine = b.asset("DSC0100.jpg", instant=utc(2015, 1, 1, 12), time_zone=MADRID, duplicate_id="g")
    theirs = b.asset(
        "IMG_20100101_120000.jpg",
        instant=utc(2016, 1, 1, 12),
        time_zone=MADRID,
        duplicate_id="g",
        owned=False,
    )
    state = b.state()
    rules = rules_for()
    dates.run(state, rules)
    assert written(state, mine) == "2010-01-01T12:00:00.000+01:00"
    assert theirs not in state.dates  # its own name would move it too, but it is not ours
    assert_idempotent(state, rules)


def test_every_in_scope_member_moves_to_the_group_oldest() -> None:
    b = LibraryBuilder()
    members = [
        b.asset("DSC1.jpg", instant=utc(2020, 3, 1, 12), time_zone=MADRID, duplicate_id="g"),
        b.asset("IMG-20190512-WA0003.jpg", instant=utc(2021, 1, 1), duplicate_id="g"),
        b.asset("DSC3.jpg", instant=utc(2019, 5, 20), time_zone="UTC", duplicate_id="g"),
    ]
    other = b.asset("DSC4.jpg", instant=utc(2020, 3, 1, 12), duplicate_id="h")
    state = b.state()
    rules = rules_for()
    dates.run(state, rules)
    assert [written(state, n) for n in members] == ["2019-05-12T00:00:00.000+02:00"] * 3
    assert other not in state.dates
    assert_idempotent(state, rules)


def test_a_duplicate_keeps_its_own_offset() -> None:
    b = LibraryBuilder()
    n = b.asset("DSC1.jpg", instant=utc(2020, 3, 1, 12), time_zone=MADRID, duplicate_id="g")
    b.asset("DSC2.jpg", instant=utc(2018, 6, 1, 10, 30), time_zone="UTC+5:30", duplicate_id="g")
    state = b.state()
    rules = rules_for()
    dates.run(state, rules)
    assert written(state, n) == "2018-06-01T16:00:00.000+05:30"
    assert_idempotent(state, rules)


def test_duplicate_without_zone_is_read_in_the_extraction_zone() -> None:
    b = LibraryBuilder()
    n = b.asset("DSC1.jpg", instant=utc(2020, 3, 1, 12), time_zone=MADRID, duplicate_id="g")
    b.asset("DSC2.jpg", instant=utc(2018, 6, 1, 10), time_zone=None, duplicate_id="g")
    state = b.state()
    dates.run(state, rules_for())
    assert written(state, n) == "2018-06-01T12:00:00.000+02:00"


def test_duplicate_subsecond_instant_is_written_exactly() -> None:
    b = LibraryBuilder()
    n = b.asset("DSC1.jpg", instant=utc(2018, 6, 1, 10, 0, 5), duplicate_id="g")
    b.asset("DSC2.jpg", instant=utc(2018, 6, 1, 10, 0, 0, 250000), duplicate_id="g")
    state = b.state()
    rules = rules_for()
    dates.run(state, rules)
    assert written(state, n) == "2018-06-01T10:00:00.250+00:00"
    assert_idempotent(state, rules)


def test_tie_prefers_the_midnight_name_over_a_timed_duplicate() -> None:
    # DSC2 was already moved to the WhatsApp midnight, shown in UTC (22:00 the day before).
    # DSC1 is 20 h later: the oldest is a midnight, so no time-precision move.
    b = LibraryBuilder()
    n = b.asset("DSC1.jpg", instant=utc(2019, 5, 12, 18), time_zone=MADRID, duplicate_id="g")
    b.asset("DSC2.jpg", instant=utc(2019, 5, 11, 22), time_zone="UTC", duplicate_id="g")
    b.asset("IMG-20190512-WA0003.jpg", instant=utc(2019, 5, 11, 22), duplicate_id="g")
    state = b.state()
    dates.run(state, rules_for())
    assert n not in state.dates
    assert state.counters["ambiguous_dates"] == 0


def test_decide_without_candidates_keeps() -> None:
    options = DateCorrection()
    decision = decide(utc(2020, 1, 1), UTC, [], [], options=options, zone=UTC)
    assert decision.outcome is Outcome.KEEP
    assert decision.candidate is None


def test_decide_path_candidates_only_when_names_do_not_decide() -> None:
    name = DateCandidate(utc(2020, 1, 1, 10), True, CandidateKind.FILE_NAME, "a")
    path = DateCandidate(utc(2010, 1, 1), False, CandidateKind.PATH, "a")
    options = DateCorrection()
    decision = decide(utc(2020, 1, 1, 12), UTC, [name], [path], options=options, zone=UTC)
    assert decision.outcome is Outcome.SET
    assert decision.candidate == name


# --- property: a second run over the applied result plans nothing -------------------------

NAMES = [
    "DSC{n}.jpg",
    "IMG_2019051{d}_10101{d}.jpg",
    "IMG-2019051{d}-WA000{n}.jpg",
    "WhatsApp Image 2019-05-1{d} at 2{d}.00.00.jpeg",
    "IMG_2019033{d}_02300{d}.jpg",
    "2019-10-2{d}_02-30-00.jpg",
]
FOLDERS = ["/photos", "/WhatsApp/IMG-2019051{d}-WA0001", "/x/WhatsApp Image 2019-05-10 at 23.00.00"]
ZONES = [MADRID, "UTC", None, "UTC+5", "America/New_York"]

asset_spec = st.tuples(
    st.sampled_from(NAMES),
    st.sampled_from(FOLDERS),
    st.integers(0, 9),
    st.integers(0, 60 * 24 * 30),  # minutes after 2019-05-01
    st.sampled_from(ZONES),
    st.sampled_from([None, "g1", "g2"]),
    st.booleans(),
)


def build(specs: list[tuple[str, str, int, int, str | None, str | None, bool]]) -> State:
    b = LibraryBuilder()
    base = datetime(2019, 5, 1, tzinfo=UTC)
    for i, (name, folder, d, minutes, zone, group, owned) in enumerate(specs):
        b.asset(
            name.format(n=i % 10, d=d),
            folder=folder.format(d=d),
            instant=base + timedelta(minutes=minutes, microseconds=d * 1000),
            time_zone=zone,
            duplicate_id=group,
            owned=owned,
        )
    return b.state()


@settings(max_examples=150, deadline=None)
@given(st.lists(asset_spec, min_size=1, max_size=6))
def test_second_run_plans_nothing(
    specs: list[tuple[str, str, int, int, str | None, str | None, bool]],
) -> None:
    state = build(specs)
    rules = rules_for()
    before = [rec.instant for rec in state.lib.assets]
    dates.run(state, rules)
    assert set(state.dates) <= state.scope
    for n, value in state.dates.items():
        assert value.utcoffset() is not None
        assert value < before[n]  # only ever earlier
    for offset_zones in (False, True):
        again = rebuilt(state, offset_zones=offset_zones)
        dates.run(again, rules)
        assert again.dates == {}
