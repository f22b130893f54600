"""Phase 4: albums for unclassified assets, from duplicates and folders (docs/engine.md)."""

from __future__ import annotations

from ..folder_albums import folder_album
from ..matching import classifying_albums, could_match, pattern_matches
from ..rules import Rules
from ..state import State, Status
from .classification import classify
from .conversions import add_to_album_named


def rule_album_names(state: State, rules: Rules, asset: int) -> set[str]:
    """Names of the asset's non-temporary albums that match a classification pattern."""
    patterns = rules.classification.rules
    return {name for _, name in classifying_albums(state, asset) if pattern_matches(patterns, name)}


def run(state: State, rules: Rules) -> None:
    """Assign unclassified assets to their one candidate album; flag disagreeing groups.

    Candidates are computed for all unclassified assets on the same state, then added, so
    the order of assets does not matter. An addition can give a duplicate its candidate
    (a folder album of one member), so passes repeat until nothing is added: the next run
    then finds nothing to do.
    """
    candidates = could_match(state, rules.classification.rules)
    pending = [
        a
        for a in sorted(state.scope)
        if a not in candidates or classify(state, rules, a) is Status.UNCLASSIFIED
    ]
    detection_conflicts: set[int] = set()
    while pending:
        planned, detection_conflicts = _candidates(state, rules, pending)
        if not planned:
            break
        assigned: set[int] = set()
        for name, assets in sorted(planned.items()):
            if add_to_album_named(state, name, assets):
                assigned.update(assets)
        if not assigned:
            break
        pending = [a for a in pending if a not in assigned]
    _sync_group_conflicts(state, rules)
    _sync(state, rules.duplicates.album_detection_conflict_tag, detection_conflicts)


def _candidates(
    state: State, rules: Rules, pending: list[int]
) -> tuple[dict[str, list[int]], set[int]]:
    """Album name -> assets with exactly that one candidate; unassigned detection conflicts."""
    folders = rules.folder_albums
    patterns = rules.classification.rules
    names_cache: dict[int, set[str]] = {}
    planned: dict[str, list[int]] = {}
    detection_conflicts: set[int] = set()
    for asset in pending:
        rec = state.lib.assets[asset]
        candidates: set[str] = set()
        for other in state.lib.duplicate_groups.get(rec.duplicate_id or "", ()):
            if other != asset:
                if other not in names_cache:
                    names_cache[other] = rule_album_names(state, rules, other)
                candidates |= names_cache[other]
        if folders.enabled:
            detected = folder_album(rec.folder, folders.excluded_paths)
            if detected.conflict:
                detection_conflicts.add(asset)
            elif detected.name and pattern_matches(patterns, detected.name):
                candidates.add(detected.name)
        if len(candidates) == 1:
            planned.setdefault(candidates.pop(), []).append(asset)
            detection_conflicts.discard(asset)  # filed after all: no longer unclassified
    return planned, detection_conflicts


def _sync_group_conflicts(state: State, rules: Rules) -> None:
    """Album-conflict tag on in-scope members of groups whose rule-matching albums differ."""
    if rules.duplicates.album_conflict_tag is None:
        return
    wanted: set[int] = set()
    for members in state.lib.duplicate_groups.values():
        in_scope = [m for m in members if m in state.scope]
        if not in_scope:
            continue
        union: set[str] = set()
        for m in members:
            union |= rule_album_names(state, rules, m)
        if len(union) > 1:
            wanted.update(in_scope)
    _sync(state, rules.duplicates.album_conflict_tag, wanted)


def _sync(state: State, tag: str | None, wanted: set[int]) -> None:
    """A tool-owned tag on exactly the `wanted` in-scope assets."""
    if tag is None:
        return
    state.add_tag(tag, sorted(wanted))
    stale = [a for a in state.tagged(tag) if a in state.scope and a not in wanted]
    state.remove_tag(tag, sorted(stale))
