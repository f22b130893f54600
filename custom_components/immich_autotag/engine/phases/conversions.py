"""Phase 1: conversions of legacy tags/albums into canonical ones (docs/engine.md#conversions)."""

from __future__ import annotations

from collections.abc import Iterable

from ..matching import RuleMatch, rule_matches
from ..rules import Conversion, ConversionMode, Rules
from ..state import State


def add_to_album_named(state: State, name: str, assets: Iterable[int]) -> bool:
    """Add assets to the album of that name, planning its creation when missing.

    An existing album whose members were not loaded cannot be planned against: it is noted
    as a warning and skipped (False).
    """
    members = list(assets)
    if not members:
        return True
    key = state.album_for(name)
    if not state.is_loaded(key):
        state.note("album_not_loaded", f"album {name!r} was not loaded; skipped", album_id=key)
        return False
    state.add_to_album(key, members)
    return True


def _keeps(conversion: Conversion, tag: str) -> bool:
    """A source tag a destination tag lives under (or equals) must not be removed by a move."""
    return any(d == tag or d.startswith(tag + "/") for d in conversion.destination_tags)


def apply_conversion(state: State, conversion: Conversion, assets: Iterable[int]) -> list[int]:
    """Apply one conversion to those of `assets` its source matches; returns the matched."""
    matches: list[tuple[int, RuleMatch]] = []
    for asset in assets:
        match = rule_matches(state, conversion.source, asset)
        if match:
            matches.append((asset, match))
    matched = [a for a, _ in matches]
    if not matched:
        return matched
    for tag in conversion.destination_tags:
        state.add_tag(tag, matched)
    destination_keys: set[str] = set()
    added = True
    for name in conversion.destination_albums:
        if add_to_album_named(state, name, matched):
            destination_keys.add(state.album_for(name))
        else:
            added = False
    if conversion.mode is ConversionMode.MOVE and added:  # never move into nothing
        _remove_sources(state, conversion, matches, destination_keys)
    return matched


def _remove_sources(
    state: State,
    conversion: Conversion,
    matches: list[tuple[int, RuleMatch]],
    destination_keys: set[str],
) -> None:
    """Move: take away the matched source tags (and source albums when asked)."""
    for asset, match in matches:
        for tag in match.tags:
            if not _keeps(conversion, tag):
                state.remove_tag(tag, [asset])
        if conversion.remove_from_source_albums:
            for key in match.albums:
                if key not in destination_keys:
                    state.remove_from_album(key, [asset])


def convert(state: State, rules: Rules, assets: Iterable[int]) -> None:
    """Apply every conversion, in order, to the given (in-scope) assets."""
    targets = sorted(a for a in assets if a in state.scope)
    for conversion in rules.conversions:
        apply_conversion(state, conversion, targets)


def run(state: State, rules: Rules) -> None:
    """Phase 1 on every in-scope asset."""
    convert(state, rules, state.scope)
