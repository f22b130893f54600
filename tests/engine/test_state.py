"""The State overlay: tag closure, album membership, scope and deletion guards."""

import pytest

from custom_components.immich_autotag.engine.state import ScopeError

from .builders import OTHER, LibraryBuilder


def test_tag_closure_and_overlay() -> None:
    b = LibraryBuilder()
    a = b.asset(tags=("events/party",))
    c = b.asset()
    state = b.state()
    assert state.has_tag(a, "events")
    assert not state.has_tag(c, "events")
    state.add_tag("events/party", [c])
    assert state.has_tag(c, "events")
    assert state.tag_adds == {"events/party": {c}}
    state.remove_tag("events", [a, c])
    assert not state.has_tag(a, "events/party")
    assert state.tag_adds == {"events/party": set()}
    assert state.tag_removes == {"events": {a}, "events/party": {a}}


def test_album_add_remove_cancel_out() -> None:
    b = LibraryBuilder()
    a = b.asset()
    album = b.album("2020-01-01 Party", a)
    state = b.state()
    state.remove_from_album(album, [a])
    assert album not in state.albums_of(a)
    state.add_to_album(album, [a])
    assert album in state.albums_of(a)
    assert not state.album_adds.get(album)
    assert not state.album_removes.get(album)


def test_scope_and_delete_guards() -> None:
    b = LibraryBuilder()
    foreign = b.asset(owned=False)
    album = b.album("Holidays")
    other_temp = b.album("2020-01-01-autotag-temp-unclassified", owner=OTHER)
    state = b.state()
    with pytest.raises(ScopeError):
        state.add_tag("x", [foreign])
    with pytest.raises(ScopeError):
        state.delete_album(album)
    with pytest.raises(ScopeError):
        state.delete_album(other_temp)
