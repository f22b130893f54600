"""Phase 3: classification tags kept consistent across duplicate groups (docs/engine.md)."""

from __future__ import annotations

from ..rules import Rules
from ..state import State
from .conversions import convert


def _tag_sets(state: State, tags: list[str], members: tuple[int, ...]) -> dict[int, frozenset[str]]:
    return {m: frozenset(t for t in tags if state.has_tag(m, t)) for m in members}


def run(state: State, rules: Rules) -> None:
    """Copy a group's one tag set to untagged members, or flag groups whose sets disagree."""
    tags = sorted(rules.classification_tags)
    conflict_tag = rules.duplicates.classification_conflict_tag
    prefix = rules.duplicates.classification_conflict_prefix
    wanted_group_tag: dict[int, str] = {}  # in-scope asset -> its group's conflict tag
    recipients: list[int] = []
    for duplicate_id, members in sorted(state.lib.duplicate_groups.items()):
        in_scope = [m for m in members if m in state.scope]
        if not in_scope or not tags:
            continue
        sets = _tag_sets(state, tags, members)
        distinct = {s for s in sets.values() if s}
        if len(distinct) == 1:
            (common,) = distinct
            empty = [m for m in in_scope if not sets[m]]
            for tag in sorted(common):
                state.add_tag(tag, empty)
            recipients.extend(empty)
        elif len(distinct) > 1:
            state.counters["duplicate_conflicts"] += 1
            for m in in_scope:
                wanted_group_tag[m] = f"{prefix}{duplicate_id}" if prefix else ""
    # A copied tag may be a move conversion's source: convert now, not on the next run.
    convert(state, rules, recipients)
    _sync_conflict_tags(state, conflict_tag, prefix, wanted_group_tag)


def _sync_conflict_tags(
    state: State, conflict_tag: str | None, prefix: str | None, wanted: dict[int, str]
) -> None:
    """Conflict tag and per-group tag exactly on conflicting members; delete orphan group tags."""
    if conflict_tag:
        state.add_tag(conflict_tag, sorted(wanted))
        stale = [a for a in state.tagged(conflict_tag) if a in state.scope and a not in wanted]
        state.remove_tag(conflict_tag, sorted(stale))
    if not prefix:
        return
    by_tag: dict[str, list[int]] = {}
    for asset, tag in wanted.items():
        by_tag.setdefault(tag, []).append(asset)
    for tag, assets in sorted(by_tag.items()):
        state.add_tag(tag, sorted(assets))
    group_tags = {p for p in state.lib.tags if p.startswith(prefix)} | set(by_tag)
    for tag in sorted(group_tags):
        stale = [a for a in state.tagged(tag) if a in state.scope and wanted.get(a) != tag]
        state.remove_tag(tag, sorted(stale))
        if not state.tagged(tag):
            state.delete_tag(tag)
