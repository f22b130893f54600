"""Dates at the edge of what Python can represent never fail a run (docs/engine.md: reported).

Year 1 and year 9999 instants, zones up to ±14 h, naive-looking names of year 1 or 9999, in
every phase that reads a date (date repair, temp albums, album date checks, duplicates).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.immich_autotag.engine.plan import make_plan
from custom_components.immich_autotag.engine.scope import compute_scope

from .builders import LibraryBuilder
from .replay import replay
from .test_idempotency import RULES

EDGE_INSTANTS = (
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(9999, 12, 31, 10, tzinfo=UTC),
    datetime(9999, 12, 31, 12, tzinfo=timezone(timedelta(hours=-10))),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(1, 1, 1, 13, tzinfo=UTC),
    datetime(1, 1, 2, 5, tzinfo=timezone(timedelta(hours=14))),
    datetime(1970, 1, 1, tzinfo=UTC),
)
ZONES = (
    "Asia/Tokyo",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "America/New_York",
    "UTC-12",
    "UTC+14",
    "UTC+5:45",
    "UTC",
    None,
    "Not/AZone",
)
NAMES = (
    "IMG_99991231_235959.jpg",
    "IMG_00010101_000000.jpg",
    "IMG-99991231-WA0001.jpg",
    "IMG-00010101-WA0001.jpg",
    "WhatsApp Image 9999-12-31 at 23.59.59.jpeg",
    "IMG_20200101_101010.jpg",
    "DSC0001.jpg",
)
ALBUMS = ("9999-12 Future", "0001-01 Past", "0001 Year one", "9999 Last year")

instants = st.one_of(
    st.sampled_from(EDGE_INSTANTS),
    st.datetimes(
        min_value=datetime(1, 1, 1),
        max_value=datetime(9999, 12, 31, 23, 59, 59),
        timezones=st.just(UTC),
    ),
)
assets = st.fixed_dictionaries(
    {
        "instant": instants,
        "zone": st.sampled_from(ZONES),
        "name": st.sampled_from(NAMES),
        "folder": st.sampled_from(("/p", "/p/IMG-99991231-WA0001", "/p/0001-01-01 Old")),
        "dup": st.sampled_from((None, "g1", "g1", "g2")),
        "album": st.sampled_from((None, None, *range(len(ALBUMS)))),
    }
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(assets, min_size=1, max_size=6))
def test_edge_dates_never_fail_a_plan_and_plans_converge(specs: list[dict[str, object]]) -> None:
    b = LibraryBuilder()
    members: dict[int, list[int]] = {}
    for spec in specs:
        n = b.asset(
            str(spec["name"]),
            folder=str(spec["folder"]),
            instant=spec["instant"],  # type: ignore[arg-type]
            time_zone=spec["zone"],  # type: ignore[arg-type]
            duplicate_id=spec["dup"],  # type: ignore[arg-type]
        )
        if spec["album"] is not None:
            members.setdefault(int(spec["album"]), []).append(n)  # type: ignore[call-overload]
    for index, name in enumerate(ALBUMS):
        b.album(name, *members.get(index, ()))
    lib = b.build()
    state, plan = make_plan(lib, RULES, compute_scope(lib, RULES))
    after = replay(b, plan)
    lib2 = after.build()
    _, second = make_plan(lib2, RULES, compute_scope(lib2, RULES))
    assert second.is_empty, second.counts()
    del state


def test_year_9999_in_tokyo_is_reported_not_fatal() -> None:
    b = LibraryBuilder()
    edge = b.asset("DSC0001.jpg", instant=EDGE_INSTANTS[0], time_zone="Asia/Tokyo")
    lib = b.build()
    state, plan = make_plan(lib, RULES, compute_scope(lib, RULES))
    assert any(
        n.kind == "unusable_date" and n.asset_id == lib.assets.ids[edge] for n in state.notes
    )
    assert plan.counts()  # the rest of the run is planned (output tags etc.)
