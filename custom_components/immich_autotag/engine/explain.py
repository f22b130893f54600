"""Why a run does what it does to one asset: every decision, in words, with what it matched.

Pure: an `AssetFocus` (the small library around the asset, `explain_load.py`) and the rules
in, a JSON-ready dict out. The phases run exactly as in a run (`plan.PHASES`, focused on the
asset), and each decision is read from the state at the moment its phase makes it: the scope
on the library as read, the rules right before classification, the date decision with its
candidates, the duplicate group's tag sets, then the status, folder and temporary albums and
the changes the run would make to the asset.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from ..immich.client import ImmichClient
from .explain_load import AssetFocus, asset_ref, load_focus
from .folder_albums import folder_album
from .matching import classifying_albums, rule_matches
from .phases.dates import date_decision
from .phases.temp_albums import temp_album_name
from .plan import PHASES, Plan
from .rules import Rule, Rules
from .state import State, Status

Section = dict[str, Any]


def describe_rule(state: State, rule: Rule, n: int) -> Section:
    """Whether `rule` matches asset `n` now, and through which tag, album or link."""
    albums = classifying_albums(state, n)
    match = rule_matches(state, rule, n, albums)
    carried = [t for t in rule.tag_names if state.has_tag(n, t)]
    by_pattern = [
        {"album": name, "pattern": p.pattern}
        for _, name in albums
        for p in rule.album_name_patterns
        if p.match(name)
    ]
    linked = bool(rule.asset_links) and state.lib.assets.ids[n].lower() in rule.asset_links
    reasons = []
    if rule.tag_names:
        reasons.append(f"tags {carried}" if carried else f"none of the tags {list(rule.tag_names)}")
    if rule.album_name_patterns:
        patterns = [p.pattern for p in rule.album_name_patterns]
        reasons.append(
            "albums " + ", ".join(f"{m['album']} ({m['pattern']})" for m in by_pattern)
            if by_pattern
            else f"no album matching {patterns}"
        )
    if rule.asset_links:
        reasons.append("linked" if linked else "not linked")
    joined = " and " if rule.require_all else "; "
    return {
        "rule": rule.label or "rule",
        "matched": bool(match),
        "require_all": rule.require_all,
        "tags": carried,
        "albums": by_pattern,
        "linked": linked,
        "why": joined.join(reasons) or "the rule names nothing",
    }


def _first(state: State, rules: Sequence[Rule], n: int) -> Section | None:
    for rule in rules:
        described = describe_rule(state, rule, n)
        if described["matched"]:
            return described
    return None


def _scope(state: State, rules: Rules, n: int) -> Section:
    rec = state.lib.assets[n]
    if not rec.owned:
        why = "not yours, in the trash, hidden or locked: a run never changes it"
        return {"in_scope": False, "why": why}
    filters = rules.filters
    if filters.filter_in and (_first(state, filters.filter_in, n) is None):
        return {"in_scope": False, "why": "no filters.filter_in rule matches"}
    out = _first(state, filters.filter_out, n)
    if out is not None:
        return {"in_scope": False, "why": f"{out['rule']} matches: {out['why']}", "rule": out}
    return {"in_scope": True, "why": "yours, and the filters let it through"}


def _date(state: State, rules: Rules, n: int) -> Section:
    if not rules.duplicates.date_correction.enabled:
        return {"enabled": False, "current": state.instant(n).isoformat()}
    try:
        found, decision = date_decision(state, rules, n)
    except OverflowError:
        return {"current": state.instant(n).isoformat(), "decision": "unusable"}
    section: Section = {
        "current": state.instant(n).isoformat(),
        "time_zone": state.lib.assets.time_zones[n],
        "candidates": [
            {
                "kind": str(c.kind),
                "value": c.value.isoformat(),
                "has_time": c.has_time,
                "asset_id": c.asset_id,
            }
            for c in sorted(found, key=lambda c: c.order)
        ],
        "decision": "keep" if decision is None else str(decision.outcome),
        "why": "no candidate date" if decision is None else decision.reason,
    }
    if decision is not None and decision.candidate is not None:
        section["chosen" if str(decision.outcome) == "set" else "nearest"] = (
            decision.candidate.value.isoformat()
        )
    return section


def _duplicates(state: State, rules: Rules, focus: AssetFocus, n: int) -> Section | None:
    lib = state.lib
    group = lib.duplicate_groups.get(lib.assets[n].duplicate_id or "")
    if not group:
        return None
    tags = sorted(rules.classification_tags)
    sets = {m: sorted(t for t in tags if state.has_tag(m, t)) for m in group}
    distinct = {tuple(s) for s in sets.values() if s}
    if len(distinct) > 1:
        decision = "conflict: the members carry different classification tags"
    elif distinct and not sets[n]:
        decision = f"copies {list(next(iter(distinct)))} from the group"
    else:
        decision = "nothing to copy" if distinct else "no member is classified by tags"
    return {
        "group": lib.assets[n].duplicate_id,
        "members": [
            {
                "asset_id": lib.assets.ids[m],
                "file_name": lib.assets[m].file_name,
                "classification_tags": sets[m],
                "albums": [a.name for a in focus.albums.get(m, [])],
            }
            for m in group
        ],
        "decision": decision,
    }


def explain_focus(focus: AssetFocus, rules: Rules) -> Section:
    """Every decision about `focus.asset` (see the module docstring)."""
    lib, n = focus.lib, focus.asset
    rec = lib.assets[n]
    initial = State(lib, ())
    out: Section = {
        "asset": {
            "id": rec.id,
            "file_name": rec.file_name,
            "path": rec.path,
            "date": rec.instant.isoformat(),
            "time_zone": rec.time_zone,
            "tags": focus.tags.get(n, []),
            "albums": [a.name for a in focus.albums.get(n, [])],
            "duplicate_id": rec.duplicate_id,
        },
        "scope": _scope(initial, rules, n),
        "conversions": [
            describe_rule(initial, c.source, n) | {"destination_albums": list(c.destination_albums)}
            for c in rules.conversions
        ],
    }
    state = State(lib, [n] if out["scope"]["in_scope"] else [], focused=True)
    for name, phase in PHASES:
        if name == "dates":
            out["date"] = _date(state, rules, n)
        elif name == "duplicate_tags":
            out["duplicates"] = _duplicates(state, rules, focus, n)
        elif name == "classification":
            out["rules"] = [describe_rule(state, r, n) for r in rules.classification.rules]
        phase(state, rules)
    out["status"] = str(state.status.get(n, "out of scope"))
    out["folder_album"] = _folder(rules, rec.folder)
    unclassified = state.status.get(n) is Status.UNCLASSIFIED
    out["temp_album"] = (
        temp_album_name(state.local_date(n))
        if unclassified and rules.create_album_from_date_if_missing
        else None
    )
    plan = Plan.from_state(state)
    out["changes"] = [c for c in plan.describe(lib) if c.get("asset_id") == rec.id]
    out["notes"] = [*focus.notes, *(x.message for x in state.notes if x.asset_id == rec.id)]
    return out


def _folder(rules: Rules, folder: str) -> Section:
    if not rules.folder_albums.enabled:
        return {"enabled": False}
    found = folder_album(folder, rules.folder_albums.excluded_paths)
    if found.conflict:
        return {"name": None, "why": "several dated folders in the path"}
    if found.name is None:
        return {"name": None, "why": "no dated folder (or an excluded path)"}
    return {"name": found.name, "why": "dated folder in the path"}


async def explain_asset(client: ImmichClient, rules: Rules, ref: str) -> Section:
    """Explain the asset `ref` (an id or an Immich link): read-only, a few requests.

    Raises AssetRefError for input that names no asset of the key's user, and the client's
    errors (authentication, connection) as they are.
    """
    asset_id = asset_ref(ref)  # before any request
    before = client.stats.total
    info = await client.connect()
    permissions = info.api_key.permissions
    focus = await load_focus(
        client,
        rules,
        info.user,
        asset_id,
        may_read_duplicates=bool(permissions & {"all", "duplicate.read"}),
    )
    out = await asyncio.to_thread(explain_focus, focus, rules)
    out["server_version"] = str(info.version)
    out["requests"] = client.stats.total - before
    return out
