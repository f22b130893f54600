"""Phase 8 (album permissions): keywords, targets, roles, removals, owner and notes."""

from __future__ import annotations

import pytest

from custom_components.immich_autotag.engine.phases import album_permissions
from custom_components.immich_autotag.engine.plan import Plan
from custom_components.immich_autotag.engine.rules import (
    Access,
    AlbumPermissions,
    Rules,
    SelectionRule,
    UserGroup,
)
from custom_components.immich_autotag.engine.state import State
from custom_components.immich_autotag.immich.models import AlbumUser, User
from tests.engine.builders import ME, OTHER, LibraryBuilder

MUM = User(id="00000000-0000-4000-8000-00000000000a", email="Mum@Example.com", name="Mum")
DAD = User(id="00000000-0000-4000-8000-00000000000b", email="dad@example.com", name="Dad")
PAL = User(id="00000000-0000-4000-8000-00000000000c", email="pal@example.com", name="Pal")

GROUPS = (
    UserGroup("family", ("mum@example.com", "DAD@example.com")),
    UserGroup("friends", ("pal@example.com", "dad@example.com")),
)


def rules(*selection: SelectionRule, groups: tuple[UserGroup, ...] = GROUPS) -> Rules:
    return Rules(
        album_permissions=AlbumPermissions(
            enabled=True, user_groups=groups, selection_rules=selection
        )
    )


FAMILY_VIEW = SelectionRule("share family", "family", ("family",), Access.VIEW)
FRIENDS_EDIT = SelectionRule("friends edit", "friends", ("friends",), Access.EDIT)


def builder() -> LibraryBuilder:
    b = LibraryBuilder()
    b.lib.users.extend([MUM, DAD, PAL])
    return b


def member(user: User, role: str) -> AlbumUser:
    return AlbumUser(user_id=user.id, email=user.email, role=role)


def run(state: State, r: Rules) -> dict[str, dict[str, str | None]]:
    album_permissions.run(state, r)
    return state.album_users


@pytest.mark.parametrize(
    ("name", "keyword", "match"),
    [
        ("2024-Familia-Navidad", "familia", True),
        ("Family-Photo-Album", "familia", False),
        ("2024 Family Xmas", "family", True),
        ("familyreunion 2024", "family", False),
        ("Trip.Family_2024", "FAMILY", True),
        ("Fam-ily", "family", False),
    ],
)
def test_keyword_table(name: str, keyword: str, match: bool) -> None:
    b = builder()
    album = b.album(name)
    state = b.state()
    rule = SelectionRule("r", keyword, ("family",), Access.VIEW)
    changes = run(state, rules(rule))
    expected = {album: {MUM.id: "viewer", DAD.id: "viewer"}} if match else {}
    assert changes == expected


def test_highest_access_wins_and_groups_union() -> None:
    b = builder()
    album = b.album("2024 Family and Friends")
    state = b.state()
    changes = run(state, rules(FAMILY_VIEW, FRIENDS_EDIT))
    assert changes == {album: {MUM.id: "viewer", DAD.id: "editor", PAL.id: "editor"}}


def test_fix_roles_remove_strangers_keep_correct_members() -> None:
    b = builder()
    album = b.album(
        "Family 2024",
        users=(member(MUM, "editor"), member(DAD, "viewer"), member(PAL, "viewer")),
    )
    state = b.state()
    changes = run(state, rules(FAMILY_VIEW))
    assert changes == {album: {MUM.id: "viewer", PAL.id: None}}


def test_admin_is_editor_with_a_note() -> None:
    b = builder()
    album = b.album("Family 2024")
    state = b.state()
    admin = SelectionRule("family admin", "family", ("family",), Access.ADMIN)
    changes = run(state, rules(admin))
    assert changes == {album: {MUM.id: "editor", DAD.id: "editor"}}
    assert [n.kind for n in state.notes] == ["admin_access"]


def test_unknown_emails_noted_once_each() -> None:
    b = builder()
    a1 = b.album("Family 1")
    a2 = b.album("Family 2")
    state = b.state()
    groups = (UserGroup("family", ("mum@example.com", "ghost@example.com", "GHOST@example.com")),)
    changes = run(state, rules(FAMILY_VIEW, groups=groups))
    assert changes == {a1: {MUM.id: "viewer"}, a2: {MUM.id: "viewer"}}
    notes = [(n.kind, n.message) for n in state.notes]
    assert len(notes) == 1
    assert notes[0][0] == "unknown_email"
    assert "ghost@example.com" in notes[0][1]


def test_unknown_group_noted_once() -> None:
    b = builder()
    b.album("Family 1")
    b.album("Family 2")
    state = b.state()
    rule = SelectionRule("r", "family", ("nobody",), Access.VIEW)
    changes = run(state, rules(rule))
    assert changes == {}  # target is empty and the albums have no members
    assert [n.kind for n in state.notes] == ["unknown_group"]


def test_empty_target_removes_existing_members() -> None:
    b = builder()
    album = b.album("Family 1", users=(member(PAL, "viewer"),))
    state = b.state()
    rule = SelectionRule("r", "family", ("nobody",), Access.VIEW)
    assert run(state, rules(rule)) == {album: {PAL.id: None}}


def test_owner_is_never_touched() -> None:
    b = builder()
    album = b.album("Family 2024", users=(member(ME, "editor"),))
    state = b.state()
    groups = (UserGroup("family", ("me@example.com", "mum@example.com")),)
    changes = run(state, rules(FAMILY_VIEW, groups=groups))
    assert changes == {album: {MUM.id: "viewer"}}


def test_albums_not_owned_or_not_matching_are_untouched() -> None:
    b = builder()
    b.album("Family of other", owner=OTHER, users=(member(ME, "viewer"),))
    b.album("Holidays", users=(member(PAL, "viewer"),))
    state = b.state()
    assert run(state, rules(FAMILY_VIEW)) == {}


def test_disabled_or_without_rules_changes_nothing() -> None:
    b = builder()
    b.album("Family 2024", users=(member(PAL, "viewer"),))
    state = b.state()
    off = Rules(
        album_permissions=AlbumPermissions(
            enabled=False, user_groups=GROUPS, selection_rules=(FAMILY_VIEW,)
        )
    )
    assert run(state, off) == {}
    assert run(state, rules()) == {}
    assert state.notes == []


def test_idempotent_after_applying() -> None:
    b = builder()
    b.album("Family 2024", users=(member(PAL, "viewer"), member(MUM, "editor")))
    state = b.state()
    r = rules(FAMILY_VIEW, FRIENDS_EDIT)
    assert run(state, r)

    b2 = builder()
    b2.album("Family 2024", users=(member(MUM, "viewer"), member(DAD, "viewer")))
    again = b2.state()
    assert run(again, r) == {}


def test_album_planned_by_this_run_is_shared_in_the_same_run() -> None:
    b = builder()
    a = b.asset()
    state = b.state()
    key = state.album_for("2024 Family and Friends")
    state.add_to_album(key, [a])
    changes = run(state, rules(FAMILY_VIEW, FRIENDS_EDIT))
    assert changes == {key: {MUM.id: "viewer", DAD.id: "editor", PAL.id: "editor"}}
    plan = Plan.from_state(state)
    assert plan.album_create_users == {
        "2024 Family and Friends": tuple(
            sorted(((MUM.id, "viewer"), (DAD.id, "editor"), (PAL.id, "editor")))
        )
    }
    assert plan.album_users == ()
    assert plan.counts()["album_user_add"] == 3


def test_planned_album_left_empty_is_neither_created_nor_shared() -> None:
    b = builder()
    state = b.state()
    state.album_for("Family 2024")
    run(state, rules(FAMILY_VIEW))
    plan = Plan.from_state(state)
    assert plan.album_creates == {}
    assert plan.album_create_users == {}
    assert plan.is_empty
