"""Phase 0: albums the tool created twice under one name are merged into the oldest.

Two runs at once, or a lost "create album" answer, once left duplicate albums (folder,
destination and temporary albums of the same name). An album is the tool's own when its
description is still `CREATED_BY` (set when the tool creates it); the user's own albums —
any album with another description — are never merged or deleted. For each name with several
of the key user's albums, every newer tool-created one whose members are all known and in
scope gives its members (and any member users the oldest lacks) to the oldest and is deleted
once empty. Temporary albums are left to their own phase, which merges them the same way.
"""

from __future__ import annotations

from collections import Counter

from ..rules import CREATED_BY, Rules, is_temp_album
from ..state import State


def run(state: State, _rules: Rules) -> None:
    """Merge the tool's own duplicate albums (see the module docstring)."""
    if state.focused:  # a run for given assets changes no other album
        return
    lib, me = state.lib, state.lib.me.id
    names = Counter(a.name for a in lib.albums.values() if a.owner_id == me)
    for name in sorted(n for n, count in names.items() if count > 1 and not is_temp_album(n)):
        keep = state.find_album(name)
        if keep is None or not state.is_loaded(keep):
            continue
        for album in lib.albums_named(name):
            if album.id == keep or album.description != CREATED_BY or album.owner_id != me:
                continue
            members = state.members(album.id)
            if (
                not state.is_loaded(album.id)
                or lib.album_foreign.get(album.id, 0)
                or not members <= state.scope
            ):
                state.note(
                    "duplicate_album_kept",
                    f"{name!r} exists twice; the newer copy holds photos this run cannot move",
                    album_id=album.id,
                )
                continue
            state.add_to_album(keep, sorted(members))
            state.remove_from_album(album.id, sorted(members))
            roles = {u.user_id: u.role for u in lib.albums[keep].users}
            for user in album.users:
                if user.user_id not in roles:
                    state.set_album_user(keep, user.user_id, user.role)
            state.delete_album(album.id)
