"""Albums the tool writes to: its own (never another user's), shared in the run that creates them."""

from __future__ import annotations

from datetime import datetime

import pytest

from custom_components.immich_autotag.engine.report import RunStatus
from custom_components.immich_autotag.engine.rules_loader import load_rules
from tests.rules_text import MEME_AND_DATED_ALBUMS
from tests.sim.library import SimLibrary
from tests.sim.server import Simulator, assert_no_violations

from .harness import run_once

RULES = load_rules(
    MEME_AND_DATED_ALBUMS
    + """\
album_detection_from_folders: {enabled: true}
album_permissions:
  enabled: true
  user_groups:
    - {name: family, members: [alice@example.com]}
    - {name: friends, members: [bob@example.com]}
  selection_rules:
    - {name: family, keyword: family, groups: [family], access: view}
    - {name: trips, keyword: trip, groups: [friends], access: edit}
"""
)


@pytest.mark.parametrize("version", ["2.7.0", "3.0.3", "3.2.2"])
async def test_albums_of_other_users_are_never_targets(version: str) -> None:
    """A same-named album shared with the key's user (as viewer) is not written to."""
    lib = SimLibrary()
    me = lib.add_user("me@example.com", "Me")
    alice = lib.add_user("alice@example.com", "Alice")
    lib.add_user("bob@example.com", "Bob")
    key = lib.add_api_key(me)
    party = lib.add_asset(
        me, "DSC1.jpg", "/photos/2020-05-01 Party/DSC1.jpg", datetime(2020, 5, 1, 12)
    )
    meme = lib.add_asset(me, "DSC2.jpg", taken=datetime(2021, 3, 1, 10))
    lib.tag_asset(lib.add_tag(me, "meme"), meme)
    theirs_party = lib.add_album(alice, "2020-05-01 Party", users=[(me, "viewer")])
    theirs_memes = lib.add_album(alice, "autotag_input_meme", users=[(me, "viewer")])
    sim = Simulator(lib, version=version)
    async with sim.serve() as url:
        report, _, _ = await run_once(sim, url, key, RULES)
        again, _, writes = await run_once(sim, url, key, RULES)
    assert report.status is RunStatus.SUCCESS, report.errors
    assert report.status_counts["classified"] == 2
    for name, asset in (("2020-05-01 Party", party), ("autotag_input_meme", meme)):
        own = [a for a in lib.album_by_name(name) if a.owner_id == me.id]
        assert len(own) == 1, name
        assert set(own[0].assets) == {asset.id}
    assert not theirs_party.assets
    assert not theirs_memes.assets
    assert lib.asset_tags(meme.id) == set()  # moved: the source tag went only after the add
    assert again.status is RunStatus.SUCCESS
    assert writes == 0, again.changes
    assert_no_violations(sim)


@pytest.mark.parametrize("version", ["2.7.0", "3.0.3", "3.2.2"])
async def test_albums_created_by_a_run_are_shared_in_the_same_run(version: str) -> None:
    """docs/engine.md: 'family: view' + 'trip: edit' on a new 'Family trip' album, in one run."""
    lib = SimLibrary()
    me = lib.add_user("me@example.com", "Me")
    alice = lib.add_user("alice@example.com", "Alice")
    bob = lib.add_user("bob@example.com", "Bob")
    key = lib.add_api_key(me)
    lib.add_asset(
        me, "DSC1.jpg", "/photos/2024-07-01 Family trip/DSC1.jpg", datetime(2024, 7, 1, 12)
    )
    sim = Simulator(lib, version=version)
    async with sim.serve() as url:
        report, _, _ = await run_once(sim, url, key, RULES)
        assert report.status is RunStatus.SUCCESS, report.errors
        (album,) = lib.album_by_name("2024-07-01 Family trip")
        assert album.users == {alice.id: "viewer", bob.id: "editor"}
        assert report.changes["album_user_add"] == 2
        again, _, writes = await run_once(sim, url, key, RULES)
    assert again.status is RunStatus.SUCCESS
    assert writes == 0, again.changes
    assert_no_violations(sim)


async def test_new_members_of_an_album_are_added_in_one_request() -> None:
    """One `PUT /albums/{id}/users` per album carries every new member with its role."""
    lib = SimLibrary()
    me = lib.add_user("me@example.com", "Me")
    alice = lib.add_user("alice@example.com", "Alice")
    bob = lib.add_user("bob@example.com", "Bob")
    key = lib.add_api_key(me)
    asset = lib.add_asset(me, "DSC1.jpg", taken=datetime(2024, 7, 1, 12))
    albums = [lib.add_album(me, f"2024-07-0{n} Family trip", [asset]) for n in (1, 2, 3)]
    sim = Simulator(lib)
    async with sim.serve() as url:
        report, _, _ = await run_once(sim, url, key, RULES)
    assert report.status is RunStatus.SUCCESS, report.errors
    assert all(a.users == {alice.id: "viewer", bob.id: "editor"} for a in albums)
    assert report.changes["album_user_add"] == 6
    assert report.api.by_endpoint["PUT /albums/{id}/users"] == 3
    assert_no_violations(sim)
