"""Phase 5: classification status of each in-scope asset, its output tags (docs/engine.md)."""

from __future__ import annotations

from ..matching import classifying_albums, could_match, rule_matches
from ..rules import Rules
from ..state import State, Status


def classify(state: State, rules: Rules, asset: int) -> Status:
    """Status against the classification rules; temporary albums never classify."""
    albums = classifying_albums(state, asset)
    matched = 0
    status = Status.UNCLASSIFIED
    for rule in rules.classification.rules:
        match = rule_matches(state, rule, asset, albums)
        if not match:
            continue
        matched += 1
        if matched > 1:
            return Status.CONFLICT
        through_many = len(match.album_names(state)) > 1
        status = (
            Status.CONFLICT
            if through_many and not rule.allow_multiple_albums
            else Status.CLASSIFIED
        )
    return status


def _sync_tag(state: State, tag: str | None, wanted: list[int], unwanted: list[int]) -> None:
    """Tool-owned output tag: on exactly the `wanted` assets of those considered."""
    if tag is None:
        return
    state.add_tag(tag, wanted)
    state.remove_tag(tag, [a for a in unwanted if state.has_tag(a, tag)])


def run(state: State, rules: Rules) -> None:
    """Set `state.status` for in-scope assets; unknown tag ⇔ unclassified, conflict ⇔ conflict."""
    by_status: dict[Status, list[int]] = {s: [] for s in Status}
    candidates = could_match(state, rules.classification.rules)
    for asset in sorted(state.scope):
        status = classify(state, rules, asset) if asset in candidates else Status.UNCLASSIFIED
        state.status[asset] = status
        by_status[status].append(asset)
    unclassified = by_status[Status.UNCLASSIFIED]
    conflict = by_status[Status.CONFLICT]
    classified = by_status[Status.CLASSIFIED]
    _sync_tag(state, rules.classification.unknown_tag, unclassified, conflict + classified)
    _sync_tag(state, rules.classification.conflict_tag, conflict, unclassified + classified)
