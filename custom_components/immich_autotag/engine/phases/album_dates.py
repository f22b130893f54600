"""Phase 7: flag assets whose date does not fit their dated album (docs/engine.md).

An album named `YYYY…`, `YYYY-MM…` or `YYYY-MM-DD…` covers that year, month or day. An
in-scope member more than `threshold_days` outside that span carries the mismatch tag; the tag
is removed from in-scope assets that no longer mismatch any album. Impossible album dates are
reported once per album and the album is skipped.
"""

from __future__ import annotations

from ..album_name_dates import DateSpan, UnparseableAlbumDateError, album_span
from ..rules import Rules, is_temp_album
from ..state import State


def dated_albums(state: State) -> list[tuple[str, DateSpan]]:
    """Loaded, non-temporary albums with a date span, by key (notes unparseable names)."""
    keys = [*state.lib.albums, *state.new_albums]
    found: list[tuple[str, DateSpan]] = []
    for key in keys:
        if key in state.album_deletes or not state.is_loaded(key):
            continue
        name = state.album_name(key)
        if is_temp_album(name):
            continue
        try:
            span = album_span(name)
        except UnparseableAlbumDateError:
            state.note(
                "unparseable_album_date",
                f"album {name!r} starts with an impossible date; date check skipped",
                album_id=key,
            )
            continue
        if span is not None:
            found.append((key, span))
    return found


def run(state: State, rules: Rules) -> None:
    """Add or remove the album-date mismatch tag on in-scope assets."""
    options = rules.album_date_consistency
    if not options.enabled:
        return
    tag = options.mismatch_tag
    mismatched: set[int] = set()
    for key, span in dated_albums(state):
        for n in state.members(key) & state.scope:
            if n in mismatched:
                continue
            if span.days_outside(state.local_date(n)) > options.threshold_days:
                mismatched.add(n)
    state.add_tag(tag, sorted(mismatched))
    fixed = (state.tagged(tag) & state.scope) - mismatched
    state.remove_tag(tag, sorted(fixed))
    state.counters["date_mismatches"] = len(state.tagged(tag) & state.scope)
