"""Every phase of docs/engine.md together, against the simulator: the end state in one run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest

from custom_components.immich_autotag.engine.album_cache import AlbumCache
from custom_components.immich_autotag.engine.report import RunStatus
from custom_components.immich_autotag.engine.rules_loader import load_rules
from custom_components.immich_autotag.engine.verify import VerifyPolicy
from tests.rules_text import DATE_CORRECTION, MEME_AND_DATED_ALBUMS
from tests.sim.library import SimLibrary
from tests.sim.server import Simulator, assert_no_violations

from .harness import run_once

RULES = load_rules(
    MEME_AND_DATED_ALBUMS
    + DATE_CORRECTION
    + """\
create_album_from_date_if_missing: true
album_detection_from_folders: {enabled: true, excluded_paths: [whatsapp]}
album_date_consistency: {enabled: true, threshold_days: 30}
album_permissions:
  enabled: true
  user_groups: [{name: family, members: [alice@example.com, ghost@example.com]}]
  selection_rules: [{name: share family, keyword: family, groups: [family], access: edit}]
"""
)
UNKNOWN = "autotag_output_unknown"
MISMATCH = "autotag_output_album_date_mismatch"
MADRID_SUMMER = timezone(timedelta(hours=2))


@dataclass
class World:
    """The hand-built library and the ids the assertions need."""

    lib: SimLibrary
    key: str
    ids: dict[str, str]
    users: dict[str, str]


GROUP = "d0f1c0de-0000-4000-8000-000000000001"  # a duplicate group id (a UUID, as Immich's)


def build() -> World:
    lib = SimLibrary()
    me = lib.add_user("me@example.com", "Me")
    alice = lib.add_user("alice@example.com", "Alice")
    bob = lib.add_user("bob@example.com", "Bob")
    key = lib.add_api_key(me)
    whatsapp = lib.add_asset(
        me,
        "IMG-20190512-WA0003.jpg",
        "/photos/WhatsApp/IMG-20190512-WA0003.jpg",
        taken=datetime(2023, 1, 1, 12, tzinfo=UTC),
        time_zone=None,
        exif=False,
    )
    meme = lib.add_asset(me, "DSC0001.jpg", taken=datetime(2021, 3, 1, 10))
    lib.tag_asset(lib.add_tag(me, "meme"), meme)
    picnic = lib.add_asset(
        me, "DSC0100.jpg", "/photos/a/DSC0100.jpg", datetime(2021, 6, 1, 13), "Europe/Madrid", GROUP
    )
    twin = lib.add_asset(
        me, "DSC0100.jpg", "/backup/DSC0100.jpg", datetime(2021, 6, 1, 13), "Europe/Madrid", GROUP
    )
    stray = lib.add_asset(me, "DSC0200.jpg", taken=datetime(2020, 1, 1, 12))
    lib.add_album(me, "2021-06-01 Picnic", [picnic, stray])
    party = lib.add_asset(
        me,
        "IMG_20200501_120000.jpg",
        "/photos/2020-05-01 Party/IMG_20200501_120000.jpg",
        datetime(2020, 5, 1, 12),
        "Europe/Madrid",
    )
    xmas = lib.add_asset(
        me, "IMG_20241224_200000.jpg", taken=datetime(2024, 12, 24, 20), time_zone="Europe/Madrid"
    )
    lib.add_album(me, "2024 Family Xmas", [xmas], users=[(bob, "viewer")])
    old_temp = lib.add_asset(me, "DSC0300.jpg", taken=datetime(2018, 1, 1, 12))
    lib.add_album(me, "2018-01-01 New Year", [old_temp])
    lib.add_album(me, "2018-01-01-autotag-temp-unclassified", [old_temp])
    alices = lib.add_asset(alice, "IMG_20200101_000000.jpg", taken=datetime(2020, 1, 1))
    ids = {
        "whatsapp": whatsapp.id,
        "meme": meme.id,
        "picnic": picnic.id,
        "twin": twin.id,
        "stray": stray.id,
        "party": party.id,
        "xmas": xmas.id,
        "old_temp": old_temp.id,
        "alices": alices.id,
    }
    return World(lib, key, ids, {"alice": alice.id, "bob": bob.id})


def only(lib: SimLibrary, name: str) -> str:
    albums = lib.album_by_name(name)
    assert len(albums) == 1, (name, albums)
    return albums[0].id


def assert_end_state(world: World) -> None:
    lib, ids = world.lib, world.ids
    # Phase 2: the WhatsApp photo is redated from its name, at local midnight.
    assert lib.asset(ids["whatsapp"]).date_time_original == datetime(
        2019, 5, 12, tzinfo=MADRID_SUMMER
    )
    # Phase 6: ... and waits in the temp album of the corrected date, tagged unknown.
    assert lib.asset_albums(ids["whatsapp"]) == {"2019-05-12-autotag-temp-unclassified"}
    assert lib.asset_tags(ids["whatsapp"]) == {UNKNOWN}
    # Phase 1: the meme moved from its tag to the input album; classified, so no temp album.
    assert lib.asset_albums(ids["meme"]) == {"autotag_input_meme"}
    assert lib.asset_tags(ids["meme"]) == set()
    # Phase 4: the duplicate inherits its twin's rule-matching album.
    assert lib.asset_albums(ids["twin"]) == {"2021-06-01 Picnic"}
    assert lib.asset_tags(ids["twin"]) == set()
    # Phase 4: the dated folder becomes an album.
    assert lib.asset_albums(ids["party"]) == {"2020-05-01 Party"}
    # Phase 7: a photo 500 days away from its dated album is flagged.
    assert lib.asset_tags(ids["stray"]) == {MISMATCH}
    assert MISMATCH not in lib.asset_tags(ids["picnic"])
    # Phase 8: the family album is shared with Alice as editor; Bob is removed.
    xmas_album = lib.albums[only(lib, "2024 Family Xmas")]
    assert xmas_album.users == {world.users["alice"]: "editor"}
    # The Xmas photo is unclassified ("2024 " does not match the dated pattern).
    assert lib.asset_albums(ids["xmas"]) == {
        "2024 Family Xmas",
        "2024-12-24-autotag-temp-unclassified",
    }
    # Phase 6: a classified asset leaves its old temp album, which is deleted once empty.
    assert lib.album_by_name("2018-01-01-autotag-temp-unclassified") == []
    assert lib.asset_albums(ids["old_temp"]) == {"2018-01-01 New Year"}
    # Never touched: another user's asset.
    assert lib.asset_tags(ids["alices"]) == set()
    assert lib.asset_albums(ids["alices"]) == set()


@pytest.mark.parametrize("version", ["2.7.0", "3.0.3", "3.1.0", "3.2.2"])
async def test_one_run_reaches_the_end_state(version: str) -> None:
    world = build()
    sim = Simulator(world.lib, version=version)
    sim.check_responses = True  # the simulator's answers are the spec's shapes (v3)
    cache = AlbumCache()
    async with sim.serve() as url:
        report, _, _ = await run_once(sim, url, world.key, RULES, cache=cache)
        assert report.status is RunStatus.SUCCESS, report.errors
        assert_end_state(world)
        assert report.status_counts == {"classified": 6, "unclassified": 2, "conflict": 0}
        assert report.date_mismatches == 1
        assert any(w["kind"] == "unknown_email" for w in report.warnings)

        sim.run_metadata_jobs()  # Immich's background job moves fileCreatedAt later
        again, requests, writes = await run_once(sim, url, world.key, RULES, cache=cache)
        assert again.status is RunStatus.SUCCESS
        assert writes == 0, again.changes
        assert requests < 30
    assert_end_state(world)
    assert_no_violations(sim)
    assert sim.response_violations == []


async def test_second_run_is_idle_before_immich_moves_file_dates() -> None:
    """Immich moves fileCreatedAt/localDateTime later (a metadata job): never re-plan dates."""
    world = build()
    sim = Simulator(world.lib, metadata_delay_s=None)  # the job never runs here
    async with sim.serve() as url:
        report, _, _ = await run_once(
            sim, url, world.key, RULES, verify=VerifyPolicy(settle_timeout=0.3)
        )
        assert report.changes.get("date_set", 0) >= 1
        assert "metadata_not_settled" in [w["kind"] for w in report.warnings]
        pending = world.lib.asset(world.ids["whatsapp"])
        assert pending.file_created_at != pending.date_time_original  # still the old date
        again, _, writes = await run_once(sim, url, world.key, RULES)
    assert again.status is RunStatus.SUCCESS
    assert writes == 0, again.changes
    assert_end_state(world)
