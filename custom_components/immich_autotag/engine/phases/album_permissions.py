"""Phase 8: share owned albums with user groups by keywords in their names (docs/engine.md).

For an album owned by the key's user whose name holds a selection rule's keyword as a whole
word, the members become exactly the union of the matching rules' groups (resolved by email,
case-insensitive), each with the highest access any matching rule grants. The owner is never
touched; albums matching no rule are left alone. Albums the run itself creates are shared
in the same run: they are created with their members.
"""

from __future__ import annotations

from ..keywords import has_keyword
from ..rules import Access, AlbumPermissions, Rules, SelectionRule
from ..state import State

EDITOR = "editor"
VIEWER = "viewer"
_ROLE = {Access.VIEW: VIEWER, Access.EDIT: EDITOR, Access.ADMIN: EDITOR}
_RANK = {VIEWER: 1, EDITOR: 2}


class _Resolver:
    """Group names -> user ids, noting each unknown email or group once."""

    def __init__(self, state: State, options: AlbumPermissions) -> None:
        self.state = state
        self.groups = {g.name: g.members for g in options.user_groups}
        self.users = {u.email.casefold(): u.id for u in state.lib.users}
        self._noted: set[tuple[str, str]] = set()

    def _once(self, kind: str, key: str, message: str) -> None:
        if (kind, key) not in self._noted:
            self._noted.add((kind, key))
            self.state.note(kind, message)

    def user_ids(self, group: str) -> list[str]:
        """Known users of a group."""
        emails = self.groups.get(group)
        if emails is None:
            self._once("unknown_group", group, f"album permissions: no user group {group!r}")
            return []
        found: list[str] = []
        for email in emails:
            user_id = self.users.get(email.casefold())
            if user_id is None:
                self._once(
                    "unknown_email",
                    email.casefold(),
                    f"album permissions: no Immich user with email {email!r}",
                )
            else:
                found.append(user_id)
        return found


def target_members(
    album_name: str, rules: tuple[SelectionRule, ...], resolver: _Resolver
) -> dict[str, str] | None:
    """User id -> role the album should have; None when no rule's keyword matches."""
    matching = [r for r in rules if has_keyword(album_name, r.keyword)]
    if not matching:
        return None
    target: dict[str, str] = {}
    for rule in matching:
        role = _ROLE[rule.access]
        for group in rule.groups:
            for user_id in resolver.user_ids(group):
                if _RANK[role] > _RANK.get(target.get(user_id, ""), 0):
                    target[user_id] = role
    return target


def run(state: State, rules: Rules) -> None:
    """Plan member additions, role changes and removals on keyword-matching owned albums."""
    options = rules.album_permissions
    if not options.enabled or not options.selection_rules:
        return
    for rule in options.selection_rules:
        if rule.access is Access.ADMIN:
            state.note(
                "admin_access",
                f"selection rule {rule.name!r}: access 'admin' is granted as 'editor'",
            )
    resolver = _Resolver(state, options)
    me = state.lib.me.id
    for album in sorted(state.lib.albums.values(), key=lambda a: a.id):
        if album.owner_id != me or album.id in state.album_deletes:
            continue
        target = target_members(album.name, options.selection_rules, resolver)
        if target is None:
            continue
        target.pop(me, None)
        current = {u.user_id: u.role for u in album.users if u.user_id != me}
        for user_id, role in sorted(target.items()):
            state.set_album_user(album.id, user_id, role)
        for user_id in sorted(set(current) - set(target)):
            state.set_album_user(album.id, user_id, None)
    # Albums this run creates are shared in the same run (created with their members).
    for key, name in sorted(state.new_albums.items()):
        target = target_members(name, options.selection_rules, resolver)
        for user_id, role in sorted((target or {}).items()):
            if user_id != me:
                state.set_album_user(key, user_id, role)
