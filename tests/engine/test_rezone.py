"""Naive EXIF dates (stored by Immich as UTC, no zone) given their zone: a change kind of
their own, `date_rezone`, in plans, dry-run listings and the apply order."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from custom_components.immich_autotag.engine.apply import estimate_requests
from custom_components.immich_autotag.engine.plan import is_rezone, make_plan
from custom_components.immich_autotag.engine.rules_loader import load_rules
from custom_components.immich_autotag.engine.scope import compute_scope

from .builders import LibraryBuilder

RULES = load_rules(
    "duplicate_processing:\n  date_correction: {enabled: true, extraction_timezone: Europe/Madrid}\n"
)


def test_a_naive_exif_date_given_its_zone_is_a_rezone_and_a_real_fix_is_not() -> None:
    b = LibraryBuilder()
    # 10:10:10 in the name and, naive, in EXIF: Immich shows 10:10:10Z.
    naive = b.asset(
        "IMG_20240715_101010.jpg",
        instant=datetime(2024, 7, 15, 10, 10, 10, tzinfo=UTC),
        time_zone=None,
    )
    # A zoned photo whose Immich date is 3 days after its name: a real correction.
    late = b.asset(
        "IMG_20240716_101010.jpg",
        instant=datetime(2024, 7, 19, 8, 10, 10, tzinfo=UTC),
        time_zone="Europe/Madrid",
    )
    # Naive too, but its name says another day: a correction, not a re-zone.
    moved = b.asset(
        "IMG_20240701_090000.jpg", instant=datetime(2024, 7, 15, 9, tzinfo=UTC), time_zone=None
    )
    lib = b.build()
    state, plan = make_plan(lib, RULES, compute_scope(lib, RULES))
    assert set(state.dates) == {naive, late, moved}
    assert plan.date_rezones == {naive}
    counts = plan.counts()
    assert (counts["date_set"], counts["date_rezone"]) == (2, 1)
    listed = {item["asset_id"]: item["kind"] for item in plan.describe(lib) if "new" in item}
    assert listed == {
        lib.assets.ids[naive]: "date_rezone",
        lib.assets.ids[late]: "date_set",
        lib.assets.ids[moved]: "date_set",
    }
    kinds = [(kind, len(assets)) for kind, _, assets in plan.date_groups()]
    assert sorted(kinds) == [("date_rezone", 1), ("date_set", 1), ("date_set", 1)]
    date_requests = estimate_requests(plan) - estimate_requests(replace(plan, date_sets={}))
    assert date_requests == 3  # one per (kind, value)


def test_only_an_empty_zone_and_the_same_wall_clock_make_a_rezone() -> None:
    b = LibraryBuilder()
    naive = b.asset(instant=datetime(2024, 7, 15, 10, 10, 10, tzinfo=UTC), time_zone=None)
    utc = b.asset(instant=datetime(2024, 7, 15, 10, 10, 10, tzinfo=UTC), time_zone="UTC")
    lib = b.build()
    madrid = datetime.fromisoformat("2024-07-15T10:10:10+02:00")
    assert is_rezone(lib, naive, madrid)
    assert not is_rezone(lib, utc, madrid)  # a real UTC zone: a correction
    assert not is_rezone(lib, naive, datetime.fromisoformat("2024-07-15T09:10:10+02:00"))
    assert not is_rezone(lib, naive, datetime(2024, 7, 15, 10, 10, 10, tzinfo=UTC))  # no move
