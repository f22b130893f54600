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
    keys = state.albums_of(asset)
    if not keys:  # most assets: no album at all
        return []
    name_of = state.album_name
    out = [(key, name) for key in keys if not is_temp_album(name := name_of(key))]
    out.sort()
    return out


def rule_matches(
    state: State,
    rule: Rule,
    asset: int,
    albums: Sequence[tuple[str, str]] | None = None,
) -> RuleMatch:
    """Match `rule` against an asset; `albums` may pass `classifying_albums` precomputed.

    Called for every asset and rule (twice per asset in a plan): kept free of temporaries.
    """
    tag_names, patterns, links = rule.tag_names, rule.album_name_patterns, rule.asset_links
    tags: tuple[str, ...] = ()
    if tag_names:
        has_tag = state.has_tag
        tags = tuple([t for t in tag_names if has_tag(asset, t)])
    matched_albums: tuple[str, ...] = ()
    if patterns:
        if albums is None:
            albums = classifying_albums(state, asset)
        if albums:
            album_matches = rule.album_matches
            matched_albums = tuple([key for key, name in albums if album_matches(name)])
    linked = bool(links) and state.lib.assets.ids[asset].lower() in links
    if rule.require_all:
        matched = (
            bool(tag_names or patterns or links)
            and (not tag_names or bool(tags))
            and (not patterns or bool(matched_albums))
            and (not links or linked)
        )
    else:
        matched = bool(tags) or bool(matched_albums) or linked
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


def could_match(state: State, rules: Sequence[Rule]) -> set[int]:
    """Assets that one of `rules` might match; `rule_matches` is False for every other asset.

    The union of each rule's criteria taken alone — assets carrying one of its tags, members
    of a non-temporary album whose name it matches, the assets it links — computed with set
    operations, so a phase checks rules only for these (most of a library matches no rule).
    It reflects the state as it is now: compute it again after the state changes.
    """
    out: set[int] = set()
    for path in {t for r in rules for t in r.tag_names}:
        out |= state.tagged(path)
    if any(r.album_name_patterns for r in rules):
        keys = set(state.lib.album_members) | set(state.new_albums)
        for key in keys:
            name = state.album_name(key)
            if not is_temp_album(name) and any(r.album_matches(name) for r in rules):
                out |= state.members(key)
    links = {link for r in rules for link in r.asset_links}
    if links:
        out.update(
            n for n, asset_id in enumerate(state.lib.assets.ids) if asset_id.lower() in links
        )
    return out


def pattern_matches(rules: Sequence[Rule], album_name: str) -> bool:
    """True when any rule's album pattern matches the name (temporary albums never do)."""
    return not is_temp_album(album_name) and any(r.album_matches(album_name) for r in rules)
