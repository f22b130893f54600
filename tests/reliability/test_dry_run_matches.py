"""A dry run plans exactly what the real run then does on the same server state.

Compared change by change: the dry run's planned changes against the real run's journal (and
the counts by kind), on copies of one library, over hand-built edge cases and generated
libraries. Deletions are decided on what the server holds right before them: a temp album or a
per-group tag that still holds trashed photos is kept (trashed assets are never changed), and
an "empty" temp album that received a photo during the run is not deleted.
"""

from __future__ import annotations

import copy
from collections import Counter
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.immich_autotag.engine.journal import Journal
from custom_components.immich_autotag.engine.progress import Progress, RunPhase
from custom_components.immich_autotag.engine.report import RunReport, RunStatus
from custom_components.immich_autotag.engine.rules import Rules
from tests.sim.generator import generate_library, generator_key
from tests.sim.library import SimLibrary
from tests.sim.server import Simulator, assert_no_violations

from .common import RULES_VARIANTS, canonical, rules, run_sim

TEMP = "2001-01-01-autotag-temp-unclassified"
GROUP_PREFIX = "autotag_output_duplicate_asset_classification_conflict_"

type Change = tuple[str, str | None, str | None]


def planned(report: RunReport) -> Counter[Change]:
    """The dry run's planned changes as (kind, target, asset or user id)."""
    assert report.planned_changes_total == len(report.planned_changes), "listing cut short"
    out: Counter[Change] = Counter()
    for item in report.planned_changes:
        kind = item["kind"]
        if kind in {"date_set", "date_rezone"}:  # journaled as date_set (rezone: true)
            out["date_set", item["new"], item["asset_id"]] += 1
        elif kind.startswith("album_user_"):
            out[kind, item["target"], item["user_id"]] += 1
        else:
            out[kind, item["target"], item.get("asset_id")] += 1
    return out


def journaled(journal: Journal) -> Counter[Change]:
    """The real run's journal in the same shape."""
    out: Counter[Change] = Counter()
    for entry in journal.entries:
        kind, target, ids = entry["kind"], entry["target"], entry["ids"]
        if kind == "album_create":
            out[kind, target, None] += 1
            out.update(("album_add", target, i) for i in ids)
        elif kind == "date_set":
            out.update((kind, entry["new"], i) for i in ids)
        elif ids:
            out.update((kind, target, i) for i in ids)
        else:
            out[kind, target, None] += 1
    return out


async def dry_then_real(
    lib: SimLibrary,
    key: str,
    the_rules: Rules,
    *,
    version: str = "3.0.3",
    asset_ids: list[str] | None = None,
) -> tuple[RunReport, RunReport, Journal, SimLibrary]:
    """A dry run on a copy and the real run on the original, from the same state."""
    twin = copy.deepcopy(lib)
    dry_sim = Simulator(twin, version=version)
    async with dry_sim.serve() as url:
        dry, writes = await run_sim(dry_sim, url, key, the_rules, dry_run=True, asset_ids=asset_ids)
    assert writes == 0
    journal = Journal()
    sim = Simulator(lib, version=version)
    async with sim.serve() as url:
        real, _ = await run_sim(sim, url, key, the_rules, journal=journal, asset_ids=asset_ids)
    assert_no_violations(sim)
    return dry, real, journal, twin


# The apply stages (engine/apply.py): kinds of one stage are sent concurrently.
STAGE = {"tag_create": 0, "album_create": 1, "tag_add": 1, "album_add": 1, "tag_remove": 2}
STAGE |= {"album_remove": 2, "tag_delete": 3, "date_set": 4, "date_rezone": 4, "album_delete": 5}


def stages(kinds: list[str]) -> list[int]:
    """The stage of each change, in listing or journal order (album members come last)."""
    return [STAGE.get(kind, 6) for kind in kinds]


def assert_same(dry: RunReport, real: RunReport, journal: Journal) -> None:
    assert dry.status is RunStatus.SUCCESS, dry.error_message
    assert real.status is RunStatus.SUCCESS, real.errors[:5]
    assert real.failed_changes == {}
    assert real.changes == dry.changes
    assert journaled(journal) == planned(dry)
    created = {i["target"] for i in dry.planned_changes if i["kind"] == "album_create"}
    listed = [  # members of an album the run creates are sent with its creation
        i["kind"]
        for i in dry.planned_changes
        if not (i["kind"].startswith("album_user_") and i["target"] in created)
    ]
    assert stages(listed) == sorted(stages(listed)), "the dry run lists changes in apply order"
    applied = stages([entry["kind"] for entry in journal.entries])
    assert applied == sorted(applied), "the journal records changes in apply order"


def base() -> tuple[SimLibrary, str]:
    lib = generate_library(20, seed=3)
    return lib, generator_key(lib)


async def test_temp_album_holding_a_trashed_photo_is_planned_as_kept() -> None:
    lib, key = base()
    me = lib.user_by_email("me@example.com")
    photo = lib.add_asset(me, "DSC9001.jpg", taken=datetime(2001, 1, 1, 12))
    gone = lib.add_asset(me, "DSC9002.jpg", taken=datetime(2001, 1, 1, 13), trashed=True)
    lib.add_album(me, "2001-01 Trip", [photo])  # classifies the photo: it leaves the temp album
    album = lib.add_album(me, TEMP, [photo, gone])
    dry, real, journal, _ = await dry_then_real(lib, key, rules())
    assert_same(dry, real, journal)
    assert ("album_remove", TEMP, photo.id) in planned(dry)
    assert ("album_delete", TEMP, None) not in planned(dry)
    assert any(w["kind"] == "temp_album_kept" for w in dry.warnings)
    assert lib.album_assets(album.id) == {gone.id}  # kept: restoring the photo finds its album


async def test_group_tag_carried_only_by_a_trashed_photo_is_kept() -> None:
    lib, key = base()
    me = lib.user_by_email("me@example.com")
    gone = lib.add_asset(me, "DSC9002.jpg", taken=datetime(2001, 1, 1, 13), trashed=True)
    tag = lib.add_tag(me, GROUP_PREFIX + "f00dfeed-0000-4000-8000-000000000001")
    lib.tag_asset(tag, gone)
    dry, real, journal, _ = await dry_then_real(lib, key, rules())
    assert_same(dry, real, journal)
    assert not any(kind == "tag_delete" for kind, _, _ in planned(dry))
    assert lib.tag_by_value(me, tag.value) is not None
    assert lib.asset_tags(gone.id) == {tag.value}  # the trashed photo is unchanged


async def test_photo_added_during_the_run_keeps_its_temp_album() -> None:
    """The 'empty' temp album is re-read right before its deletion."""
    lib, key = base()
    me = lib.user_by_email("me@example.com")
    photo = lib.add_asset(me, "DSC9001.jpg", taken=datetime(2001, 1, 1, 12))
    lib.add_album(me, "2001-01 Trip", [photo])
    album = lib.add_album(me, TEMP, [photo])
    late = lib.add_asset(me, "DSC9003.jpg", taken=datetime(2001, 1, 1, 14))
    late.trashed = True  # not in the snapshot; restored and filed by the user during the run

    def arrive(tick: Progress) -> None:
        if tick.phase is RunPhase.APPLYING and late.trashed:
            late.trashed = False
            album.assets[late.id] = None

    sim = Simulator(lib)
    async with sim.serve() as url:
        report, _ = await run_sim(sim, url, key, rules(), progress=arrive)
    assert report.status is RunStatus.SUCCESS, report.errors
    assert album.id in lib.albums
    assert lib.album_assets(album.id) == {late.id}
    assert any(w["kind"] == "temp_album_kept" for w in report.warnings)


def decorate(lib: SimLibrary, picks: list[int]) -> None:
    """Edge objects: temp albums with trashed photos, trashed-only group tags, foreign albums."""
    me = lib.user_by_email("me@example.com")
    alice = lib.user_by_email("alice@example.com")
    mine = sorted(
        (a for a in lib.assets.values() if a.owner_id == me.id and not a.trashed),
        key=lambda a: a.id,
    )
    for n, pick in enumerate(picks):
        gone = lib.add_asset(me, f"DSC8{n:03d}.jpg", taken=datetime(2002, 2, 2, 10), trashed=True)
        members = [gone, *mine[pick % max(len(mine), 1) :][: pick % 3]]
        match pick % 4:
            case 0:
                lib.add_album(me, f"2002-02-0{1 + n % 9}-autotag-temp-unclassified", members)
            case 1:
                tag = lib.add_tag(me, f"{GROUP_PREFIX}{n:08x}-0000-4000-8000-000000000000")
                lib.tag_asset(tag, *members)
            case 2:
                lib.add_album(alice, "2002-02 Alice trip", members[1:], users=[(me, "viewer")])
            case _:
                lib.tag_asset(lib.add_tag(me, "meme"), *members)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    n=st.integers(5, 60),
    seed=st.integers(0, 10_000),
    variant=st.integers(0, len(RULES_VARIANTS) - 1),
    picks=st.lists(st.integers(0, 1_000), max_size=6),
    version=st.sampled_from(["2.7.0", "3.0.3", "3.2.2"]),
    scoped=st.none() | st.integers(0, 5),
)
async def test_dry_run_plan_equals_what_the_real_run_applies(  # noqa: PLR0917
    n: int, seed: int, variant: int, picks: list[int], version: str, scoped: int | None
) -> None:
    lib = generate_library(n, seed=seed)
    decorate(lib, picks)
    before = canonical(lib)
    asset_ids = None if scoped is None else sorted(lib.assets)[: scoped * 3 : 3]
    dry, real, journal, twin = await dry_then_real(
        lib,
        generator_key(lib),
        rules(RULES_VARIANTS[variant]),
        version=version,
        asset_ids=asset_ids,
    )
    assert canonical(twin) == before  # the dry run wrote nothing
    assert_same(dry, real, journal)
