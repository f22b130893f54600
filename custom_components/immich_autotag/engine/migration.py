"""Renamed outputs: old output tags found after a rules change, moved when asked (opt-in).

docs/engine.md#renamed-outputs. A run compares the output names an earlier run recorded
(`output_names.py`) with the rules' own. An old name still in Immich is *stale*: every run
reports it (a warning, `RunReport.output_migration`); a run asked to migrate (`migrate_outputs`)
untags its assets (journaled, like any change) and deletes it, after the run's own changes have
put the new tag on the assets that need it. A dry run plans the same. Never migrated: a tag
the rules still use (an output, a rule or conversion tag, or under the current per-group
prefix), and a tag with child tags (deleting it would delete them).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..immich.client import ImmichClient
from ..immich.models import Tag
from .journal import Journal
from .links import tag_url
from .output_names import PREFIX_KEY, OutputRecord, rules_outputs
from .retire import RetiredTag, RetirePlan, apply_retire
from .rules import Rules

UUID_LENGTH = 36
PENDING = "pending"  # found; not migrated (not asked, or a run for given assets)
PLANNED = "planned"  # a dry run asked to migrate
MIGRATED = "migrated"
KEPT = "kept"  # never migrated: see `reason`

MIGRATE_HINT = "run with migrate_outputs (dry run first) to move them and delete it"


@dataclass(frozen=True, slots=True)
class StaleOutput:
    """One old output tag still in Immich."""

    key: str  # the rules' key it was written for
    tag: RetiredTag
    new: str | None  # what that key writes now (None: turned off)
    state: str = PENDING
    reason: str | None = None  # why it is kept

    def item(self, web_url: str) -> dict[str, Any]:
        """The report's record of it."""
        return {
            "output": self.key,
            "old": self.tag.path,
            "new": self.new,
            "assets": len(self.tag.asset_ids),
            "state": self.state,
            "reason": self.reason,
            "url": tag_url(web_url, self.tag.path),
        }

    def message(self) -> str:
        """One line for the report's warnings."""
        n = len(self.tag.asset_ids)
        carry = f"{n:,} asset{'' if n == 1 else 's'} carry it"
        if self.new is not None:
            what = f"output tag renamed in the rules ({self.key}): {self.tag.path} → {self.new}"
        else:
            what = f"output tag no longer written ({self.key} is off): {self.tag.path}"
        if self.state == KEPT:
            return f"{what}; {carry}; kept: {self.reason}"
        if self.state == PENDING:
            return f"{what}; {carry}: {MIGRATE_HINT}"
        verb = "moved off it and it is deleted" if self.state == MIGRATED else "would move"
        return f"{what}; {carry}: {verb}"


@dataclass
class Migration:
    """The stale outputs a run found, from the earlier names it was given."""

    previous: Mapping[str, Sequence[str]]
    current: dict[str, str]  # the rules' output names, by key
    stale: list[StaleOutput] = field(default_factory=list)

    def movable(self) -> list[StaleOutput]:
        """The stale outputs a migration would move (not kept)."""
        return [s for s in self.stale if s.state != KEPT]

    def counts(self) -> dict[str, int]:
        """Changes by kind: assets moved off old tags (`tag_migrate`), tags deleted."""
        movable = self.movable()
        out = {
            "tag_migrate": sum(len(s.tag.asset_ids) for s in movable),
            "tag_delete": len(movable),
        }
        return {k: v for k, v in out.items() if v}

    def describe(self, web_url: str) -> list[dict[str, Any]]:
        """A dry run's listing: one item per tag moved, one per tag deleted."""
        items: list[dict[str, Any]] = []
        for s in self.movable():
            path, url = s.tag.path, tag_url(web_url, s.tag.path)
            items.append(
                {
                    "kind": "tag_migrate",
                    "target": path,
                    "new": s.new,
                    "assets": len(s.tag.asset_ids),
                    "target_url": url,
                }
            )
            items.append({"kind": "tag_delete", "target": path, "target_url": url})
        return items

    def mark(self, state: str) -> None:
        """Set the state of every movable stale output."""
        self.stale = [s if s.state == KEPT else replace(s, state=state) for s in self.stale]

    def record(self) -> OutputRecord:
        """The names for the next run: the rules' own, then old ones with tags still in Immich."""
        record: OutputRecord = {k: [v] for k, v in self.current.items()}
        for key, names in self.previous.items():
            for name in names:
                left = any(
                    s.key == key
                    and s.state != MIGRATED
                    and (s.tag.path == name or (key == PREFIX_KEY and s.tag.path.startswith(name)))
                    for s in self.stale
                )
                if left and name not in record.setdefault(key, []):
                    record[key].append(name)
        return {k: v for k, v in record.items() if v}


def _is_group_tag(path: str, prefix: str) -> bool:
    """True for `<prefix><UUID>`: what the duplicate phase writes (no other tag under it)."""
    if not path.startswith(prefix):
        return False
    try:
        uuid.UUID(path[len(prefix) :])
    except ValueError:
        return False
    return len(path) - len(prefix) == UUID_LENGTH


def _in_use(path: str, rules: Rules) -> bool:
    """True when the current rules write or read the tag (a rule tag matches its children)."""
    if path in rules.output_tags():
        return True
    prefix = rules.duplicates.classification_conflict_prefix
    if prefix and path.startswith(prefix):
        return True
    read = {t for rule in rules.all_rules() for t in rule.tag_names}
    written = {t for c in rules.conversions for t in c.destination_tags}
    return path in written or any(path == t or path.startswith(t + "/") for t in read)


def find_stale(
    previous: Mapping[str, Sequence[str]], rules: Rules, tags: Mapping[str, Tag]
) -> list[tuple[str, str, str | None, str | None]]:
    """(key, old tag, new name, why kept) for every old output name still in Immich."""
    current = rules_outputs(rules)
    found: dict[str, tuple[str, str, str | None, str | None]] = {}
    for key, names in previous.items():
        new = current.get(key)
        for name in names:
            if name == new:
                continue
            if key == PREFIX_KEY:  # the per-group tags `<prefix><duplicate id>` under it
                paths = [
                    (p, f"{new}{p[len(name) :]}" if new else None)
                    for p in tags
                    if _is_group_tag(p, name)
                ]
            else:
                paths = [(name, new)] if name in tags else []
            for path, renamed in paths:
                if path in found or _in_use(path, rules):
                    continue
                children = any(p.startswith(path + "/") for p in tags)
                why = "it has child tags, which deleting it would delete" if children else None
                found[path] = (key, path, renamed, why)
    return [found[p] for p in sorted(found)]


async def plan_migration(
    client: ImmichClient,
    previous: Mapping[str, Sequence[str]],
    rules: Rules,
    tags: Mapping[str, Tag],
    *,
    can_write: str | None = None,
) -> Migration:
    """The stale outputs with their assets (one search per tag), and the record to keep.

    `can_write`: why the key may not migrate (a missing permission), or None.
    """
    stale: list[StaleOutput] = []
    for key, path, new, why in find_stale(previous, rules, tags):
        tag_id = tags[path].id
        carriers = tuple(sorted(await client.search_asset_ids(tag_id=tag_id)))
        reason = why or can_write
        stale.append(
            StaleOutput(
                key, RetiredTag(path, tag_id, carriers), new, KEPT if reason else PENDING, reason
            )
        )
    return Migration(previous, rules_outputs(rules), stale)


async def apply_migration(
    client: ImmichClient, migration: Migration, journal: Journal | None
) -> dict[str, int]:
    """Untag and delete the movable stale tags (journaled); the changes made, by kind."""
    movable = migration.movable()
    done = await apply_retire(client, RetirePlan(tags=[s.tag for s in movable]), journal)
    migration.mark(MIGRATED)
    out = {"tag_migrate": done.get("tag_remove", 0), "tag_delete": done.get("tag_delete", 0)}
    return {k: v for k, v in out.items() if v}
