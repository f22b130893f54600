"""Phase 6: per-day temporary albums holding the unclassified assets (docs/engine.md)."""

from __future__ import annotations

from datetime import date

from ..rules import TEMP_ALBUM_SUFFIX, Rules, is_temp_album
from ..state import State, Status
from .classification import classify


def temp_album_name(day: date) -> str:
    """`YYYY-MM-DD-autotag-temp-unclassified`."""
    return f"{day.isoformat()}{TEMP_ALBUM_SUFFIX}"


def own_temp_albums(state: State) -> set[str]:
    """Keys of the key user's temporary albums the tool may use: loaded or planned."""
    keys = {a.id for a in state.lib.temp_albums() if state.is_loaded(a.id)}
    keys -= state.album_deletes
    keys |= {k for k, name in state.new_albums.items() if is_temp_album(name)}
    return keys


def run(state: State, rules: Rules) -> None:
    """Unclassified assets in exactly their date's temp album; others in none; empties deleted."""
    create = rules.create_album_from_date_if_missing
    owned = own_temp_albums(state)
    additions: dict[str, list[int]] = {}
    removals: dict[str, list[int]] = {}
    for asset in sorted(state.scope):
        status = state.status.get(asset) or classify(state, rules, asset)
        current = state.albums_of(asset) & owned
        if status is not Status.UNCLASSIFIED:
            for key in current:
                removals.setdefault(key, []).append(asset)
            continue
        if not create:  # cleanup only: unclassified assets stay where they are
            continue
        target = state.album_for(temp_album_name(state.local_date(asset)))
        if target not in current:
            additions.setdefault(target, []).append(asset)
        for key in current - {target}:
            removals.setdefault(key, []).append(asset)
    for key, assets in sorted(additions.items()):
        state.add_to_album(key, assets)
    for key, assets in sorted(removals.items()):
        state.remove_from_album(key, assets)
    for key in sorted(own_temp_albums(state)):
        if not state.members(key) and not state.lib.album_foreign.get(key, 0):
            state.delete_album(key)
