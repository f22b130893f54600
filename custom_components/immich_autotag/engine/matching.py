"""Whether a Rule matches an asset in the State, and how (docs/engine.md#classification)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .rules import Rule, is_temp_album
from .state import State


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """Outcome of matching one rule: the tags, album keys and link it matched through."""

    matched: bool
    tags: tuple[str, ...] = ()  # rule tags the asset carries (closure)
    albums: tuple[str, ...] = ()  # keys of non-temporary albums whose name matched
    linked: bool = False

    def __bool__(self) -> bool:
        return self.matched

    def album_names(self, state: State) -> frozenset[str]:
        """Distinct names of the albums matched through."""
        return frozenset(state.album_name(k) for k in self.albums)


NO_MATCH = RuleMatch(matched=False)


def classifying_albums(state: State, asset: int) -> list[tuple[str, str]]:
    """(key, name) of the asset's non-temporary albums: the only ones that can classify."""
    out: list[tuple[str, str]] = []
    for key in state.albums_of(asset):
        name = state.album_name(key)
        if not is_temp_album(name):
            out.append((key, name))
    out.sort()
    return out


def rule_matches(
    state: State,
    rule: Rule,
    asset: int,
    albums: Sequence[tuple[str, str]] | None = None,
) -> RuleMatch:
    """Match `rule` against an asset; `albums` may pass `classifying_albums` precomputed."""
    tags = tuple(t for t in rule.tag_names if state.has_tag(asset, t))
    matched_albums: tuple[str, ...] = ()
    if rule.album_name_patterns:
        if albums is None:
            albums = classifying_albums(state, asset)
        matched_albums = tuple(key for key, name in albums if rule.album_matches(name))
    linked = bool(rule.asset_links) and state.lib.assets.ids[asset].lower() in rule.asset_links
    kinds = (
        (bool(rule.tag_names), bool(tags)),
        (bool(rule.album_name_patterns), bool(matched_albums)),
        (bool(rule.asset_links), linked),
    )
    if rule.require_all:
        matched = any(listed for listed, _ in kinds) and all(hit for listed, hit in kinds if listed)
    else:
        matched = any(hit for _, hit in kinds)
    if not matched:
        return NO_MATCH
    return RuleMatch(matched=True, tags=tags, albums=matched_albums, linked=linked)


def matches_any(
    state: State, rules: Sequence[Rule], asset: int, albums: Sequence[tuple[str, str]] | None = None
) -> bool:
    """True when at least one of `rules` matches the asset."""
    if rules and albums is None:
        albums = classifying_albums(state, asset)
    return any(rule_matches(state, r, asset, albums) for r in rules)


def pattern_matches(rules: Sequence[Rule], album_name: str) -> bool:
    """True when any rule's album pattern matches the name (temporary albums never do)."""
    return not is_temp_album(album_name) and any(r.album_matches(album_name) for r in rules)
