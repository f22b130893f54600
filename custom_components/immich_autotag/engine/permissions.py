"""What the API key may write (docs/engine.md#safety: a missing permission turns its feature off).

The run plans only what the key may do: every change that needs a write permission the key
lacks is left out of the plan (with a warning naming the permission), so no request is sent
that the server would refuse. Left-out additions carry their removals with them, as a failed
addition does in `apply.py`: a move never removes a source whose destination was not set, and
an album or tag is not deleted while a removal from it was left out. A key with no write
permission at all runs as a dry run. The integration also raises a repair issue.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .library import Library
from .plan import Plan
from .rules import Rules

# Write permission -> what is left out without it.
WRITE_PERMISSIONS: dict[str, str] = {
    "asset.update": "capture dates are not corrected",
    "tag.create": "missing tags are not created (nor added)",
    "tag.asset": "no tag is added to or removed from an asset",
    "tag.delete": "unused conflict tags are kept",
    "album.create": "missing albums are not created (nor filled)",
    "album.delete": "empty temporary albums are kept",
    "albumAsset.create": "no asset is added to an existing album",
    "albumAsset.delete": "no asset is removed from an album",
    "albumUser.create": "albums are not shared with new members",
    "albumUser.update": "album members' roles are not changed",
    "albumUser.delete": "album members are not removed",
}
_USER_CHANGES = {
    "album_user_add": "albumUser.create",
    "album_user_update": "albumUser.update",
    "album_user_remove": "albumUser.delete",
}


@dataclass(frozen=True, slots=True)
class Capabilities:
    """The write permissions a key holds (`all` holds every one)."""

    granted: frozenset[str] = frozenset(WRITE_PERMISSIONS)

    @classmethod
    def from_permissions(cls, permissions: frozenset[str]) -> Capabilities:
        """Capabilities of a key's permission list."""
        if "all" in permissions:
            return cls()
        return cls(frozenset(permissions) & frozenset(WRITE_PERMISSIONS))

    def allows(self, permission: str) -> bool:
        """True when the key holds this write permission."""
        return permission in self.granted

    @property
    def read_only(self) -> bool:
        """No write permission at all: the run is a dry run."""
        return not self.granted

    def disabled(self) -> list[str]:
        """Warnings naming what is left out and the permission it needs."""
        if self.read_only:
            return []
        return [
            f"{effect}: the API key lacks {permission}"
            for permission, effect in WRITE_PERMISSIONS.items()
            if permission not in self.granted
        ]

    def restrict(self, rules: Rules) -> Rules:
        """The rules without date correction when dates cannot be written.

        Later phases then see the dates the library will really have (temporary albums are
        chosen by the current date, not by one that is never written).
        """
        if self.allows("asset.update") or not rules.duplicates.date_correction.enabled:
            return rules
        correction = replace(rules.duplicates.date_correction, enabled=False)
        return replace(rules, duplicates=replace(rules.duplicates, date_correction=correction))

    def restrict_plan(self, plan: Plan, lib: Library) -> Plan:
        """The plan without the changes the key may not make, nor those depending on them."""
        tag_adds = plan.tag_adds if self.allows("tag.asset") else {}
        if not self.allows("tag.create"):
            tag_adds = {p: a for p, a in tag_adds.items() if p in lib.tags}
        creates = plan.album_creates if self.allows("album.create") else {}
        album_adds = plan.album_adds if self.allows("albumAsset.create") else {}
        date_sets = plan.date_sets if self.allows("asset.update") else {}
        left_out: set[int] = set()  # assets with an addition left out: keep their removals
        for kept, planned in (
            (tag_adds, plan.tag_adds),
            (creates, plan.album_creates),
            (album_adds, plan.album_adds),
            (date_sets, plan.date_sets),
        ):
            for target, assets in planned.items():
                if target not in kept:
                    left_out |= assets
        tag_removes = _without(plan.tag_removes, left_out, allowed=self.allows("tag.asset"))
        album_removes = _without(
            plan.album_removes, left_out, allowed=self.allows("albumAsset.delete")
        )
        album_deletes = tuple(
            a
            for a in plan.album_deletes
            if self.allows("album.delete")
            and plan.album_removes.get(a, frozenset()) == album_removes.get(a, frozenset())
        )
        tag_deletes = tuple(
            p
            for p in plan.tag_deletes
            if self.allows("tag.delete")
            and plan.tag_removes.get(p, frozenset()) == tag_removes.get(p, frozenset())
        )
        return replace(
            plan,
            tag_creates=tuple(p for p in plan.tag_creates if p in tag_adds),
            tag_adds=tag_adds,
            tag_removes=tag_removes,
            tag_deletes=tag_deletes,
            album_creates=creates,
            album_create_users={
                name: users
                for name, users in plan.album_create_users.items()
                if name in creates and self.allows("albumUser.create")
            },
            album_adds=album_adds,
            album_removes=album_removes,
            album_deletes=album_deletes,
            date_sets=date_sets,
            album_users=tuple(c for c in plan.album_users if self.allows(_USER_CHANGES[c.kind])),
        )


def _without(
    groups: dict[str, frozenset[int]], assets: set[int], *, allowed: bool
) -> dict[str, frozenset[int]]:
    """Removals still planned: none when not allowed, else all but those of `assets`."""
    if not allowed:
        return {}
    kept = {target: members - assets for target, members in groups.items()}
    return {target: members for target, members in kept.items() if members}
