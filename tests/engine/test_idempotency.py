"""Property: planning again after applying a plan gives an empty plan; scope is respected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.immich_autotag.engine.plan import Plan, make_plan
from custom_components.immich_autotag.engine.rules_loader import load_rules
from custom_components.immich_autotag.engine.scope import compute_scope
from custom_components.immich_autotag.immich.models import AlbumUser
from tests.rules_text import DATE_CORRECTION, DATED_ALBUM_RULE, MEME_RULE, classification

from .builders import ME, OTHER, LibraryBuilder
from .replay import replay

RULES = load_rules(
    """
filters:
  filter_out: [{tag_names: [private]}]
conversions:
  enabled: true
  conversions:
    - source: {tag_names: [meme]}
      destination: {album_names: [autotag_input_meme], tag_names: [autotag_input_meme]}
      mode: move
"""
    + classification(MEME_RULE, "{tag_names: [autotag_input_ignore]}", DATED_ALBUM_RULE)
    + DATE_CORRECTION
    + """\
create_album_from_date_if_missing: true
album_detection_from_folders: {enabled: true, excluded_paths: [whatsapp]}
album_date_consistency: {enabled: true, threshold_days: 30}
album_permissions:
  enabled: true
  user_groups: [{name: family, members: [other@example.com, nobody@example.com]}]
  selection_rules: [{name: fam, keyword: family, groups: [family], access: edit}]
"""
)

NAMES = (
    "IMG_20240715_101010.jpg",
    "IMG-20190512-WA0003.jpg",
    "DSC0001.jpg",
    "WhatsApp Image 2025-12-29 at 14.30.45.jpeg",
    "20170808_121314.jpg",
    "Screenshot_20210102-030405.png",
)
FOLDERS = (
    "/photos",
    "/photos/2020-05-01 Party",
    "/photos/2020-05-01 Party/Sub",
    "/photos/WhatsApp",
    "/photos/2020-05-01 A/2020-06-01 B",
    "/data/IMG-20100101-WA0001",
)
TAGS = (
    "meme",
    "meme/funny",
    "autotag_input_meme",
    "autotag_input_ignore",
    "autotag_output_unknown",
    "autotag_output_conflict",
    "autotag_output_duplicate_asset_classification_conflict_g9",
    "private",
)
ALBUMS = (
    ("2024-07-15 Beach", ME),
    ("2024 Summer", ME),
    ("autotag_input_meme", ME),
    ("Holidays", ME),
    ("Holidays", ME),
    ("2020-05-01 Party", OTHER),
    ("2019-05-12-autotag-temp-unclassified", ME),
    ("family 2024", ME),
)
ZONES = ("UTC", "Europe/Madrid", "UTC+2", None)

asset_strategy = st.fixed_dictionaries(
    {
        "name": st.sampled_from(NAMES),
        "folder": st.sampled_from(FOLDERS),
        "hours": st.integers(0, 16 * 365 * 24),
        "zone": st.sampled_from(ZONES),
        "dup": st.sampled_from((None, None, "g1", "g2")),
        "owned": st.sampled_from((True, True, True, False)),
        "tags": st.sets(st.sampled_from(TAGS), max_size=3),
        "albums": st.sets(st.integers(0, len(ALBUMS) - 1), max_size=2),
    }
)


def build(assets: list[dict[str, object]], shared: bool) -> LibraryBuilder:
    b = LibraryBuilder()
    ints = []
    for spec in assets:
        hours = spec["hours"]
        assert isinstance(hours, int)
        ints.append(
            b.asset(
                str(spec["name"]),
                folder=str(spec["folder"]),
                instant=datetime(2010, 1, 1, tzinfo=UTC) + timedelta(hours=hours, seconds=7),
                time_zone=spec["zone"],  # type: ignore[arg-type]
                duplicate_id=spec["dup"],  # type: ignore[arg-type]
                owned=bool(spec["owned"]),
                tags=tuple(spec["tags"]),  # type: ignore[arg-type]
            )
        )
    for index, (name, owner) in enumerate(ALBUMS):
        members = [n for n, spec in zip(ints, assets, strict=True) if index in spec["albums"]]  # type: ignore[operator]
        users = (AlbumUser(ME.id, ME.email, "viewer"),) if owner is OTHER else ()
        if shared and name == "family 2024":
            users = (AlbumUser(OTHER.id, OTHER.email, "viewer"),)
        b.album(name, *members, owner=owner, users=users, created_at=f"2020-01-0{index + 1}")
    return b


def plan_for(b: LibraryBuilder) -> tuple[Plan, frozenset[int]]:
    lib = b.build()
    scope = compute_scope(lib, RULES, None)
    return make_plan(lib, RULES, scope)[1], scope


def touched(plan: Plan) -> set[int]:
    groups = (
        *plan.tag_adds.values(),
        *plan.tag_removes.values(),
        *plan.album_adds.values(),
        *plan.album_removes.values(),
        *plan.album_creates.values(),
        *plan.date_sets.values(),
    )
    return set().union(*groups) if groups else set()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(asset_strategy, min_size=1, max_size=10), st.booleans())
def test_second_plan_is_empty_and_scope_is_respected(
    assets: list[dict[str, object]], shared: bool
) -> None:
    builder = build(assets, shared)
    plan, scope = plan_for(builder)
    assert touched(plan) <= scope
    after = replay(builder, plan)
    second, _ = plan_for(after)
    assert second.is_empty, second.counts()
