"""Phase 0: the tool's own duplicate albums merge into the oldest; the user's never do."""

from __future__ import annotations

from dataclasses import replace

import pytest

from custom_components.immich_autotag.engine.phases import album_duplicates
from custom_components.immich_autotag.engine.rules import CREATED_BY
from custom_components.immich_autotag.engine.rules_loader import load_rules
from custom_components.immich_autotag.engine.state import ScopeError, State
from custom_components.immich_autotag.immich.models import AlbumUser

from ..builders import OTHER, LibraryBuilder

RULES = load_rules("")


def _mark(b: LibraryBuilder, album_id: str) -> None:
    b.lib.albums[album_id] = replace(b.lib.albums[album_id], description=CREATED_BY)


def test_a_tool_duplicate_gives_its_members_and_users_to_the_oldest() -> None:
    b = LibraryBuilder()
    a1, a2, a3 = b.asset(), b.asset(), b.asset()
    keep = b.album("2020-05-01 Party", a1, created_at="2020-01-01T00:00:00.000Z")
    copy = b.album(
        "2020-05-01 Party",
        a2,
        a3,
        created_at="2021-01-01T00:00:00.000Z",
        users=(AlbumUser(OTHER.id, OTHER.email, "viewer"),),
    )
    _mark(b, copy)
    state = b.state()
    album_duplicates.run(state, RULES)
    assert state.album_adds[keep] == {a2, a3}
    assert state.album_removes[copy] == {a2, a3}
    assert state.album_deletes == {copy}
    assert state.album_users[keep] == {OTHER.id: "viewer"}


def test_the_users_own_duplicates_and_unmovable_copies_are_left_alone() -> None:
    b = LibraryBuilder()
    a1, a2, a3 = b.asset(), b.asset(), b.asset(owned=False)
    b.album("Trip", a1, created_at="2020-01-01T00:00:00.000Z")
    b.album("Trip", a2, created_at="2021-01-01T00:00:00.000Z")  # the user's: no marker
    b.album("Zoo", a1, created_at="2020-01-01T00:00:00.000Z")
    partner = b.album("Zoo", a3, created_at="2021-01-01T00:00:00.000Z")  # holds another's photo
    _mark(b, partner)
    state = b.state()
    album_duplicates.run(state, RULES)
    assert not state.album_deletes
    assert not state.album_adds
    assert [n.kind for n in state.notes] == ["duplicate_album_kept"]


def test_state_deletes_only_temp_albums_and_tool_duplicates() -> None:
    b = LibraryBuilder()
    b.album("Trip", created_at="2020-01-01T00:00:00.000Z")
    users = b.album("Trip", created_at="2021-01-01T00:00:00.000Z")
    only = b.album("Alone")
    _mark(b, only)  # the tool's, but not a duplicate
    state: State = b.state()
    for key in (users, only):
        with pytest.raises(ScopeError):
            state.delete_album(key)
