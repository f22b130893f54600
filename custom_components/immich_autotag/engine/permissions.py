"""Features the API key may use (SPEC §2: a missing permission disables its feature).

The integration raises a repair issue for missing permissions; the run itself leaves out what
the key cannot do instead of failing half-way through it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .rules import Rules

ALBUM_SHARING = frozenset({"albumUser.create", "albumUser.update", "albumUser.delete"})


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the key allows beyond reading and tagging."""

    set_dates: bool = True  # asset.update
    share_albums: bool = True  # albumUser.*
    delete_albums: bool = True  # album.delete (empty temporary albums)
    delete_tags: bool = True  # tag.delete (per-group conflict tags left unused)

    @classmethod
    def from_permissions(cls, permissions: frozenset[str]) -> Capabilities:
        """Capabilities of a key (`all` allows everything)."""
        if "all" in permissions:
            return cls()
        return cls(
            set_dates="asset.update" in permissions,
            share_albums=permissions >= ALBUM_SHARING,
            delete_albums="album.delete" in permissions,
            delete_tags="tag.delete" in permissions,
        )

    def disabled(self) -> list[str]:
        """Warnings naming each disabled feature and the permission it needs."""
        out = []
        if not self.set_dates:
            out.append("date correction is off: the API key lacks asset.update")
        if not self.share_albums:
            out.append("album sharing is off: the API key lacks albumUser.create/update/delete")
        if not self.delete_albums:
            out.append("empty temporary albums are kept: the API key lacks album.delete")
        if not self.delete_tags:
            out.append("unused conflict tags are kept: the API key lacks tag.delete")
        return out

    def restrict(self, rules: Rules) -> Rules:
        """The rules with the features the key cannot carry out turned off."""
        if not self.set_dates and rules.duplicates.date_correction.enabled:
            correction = replace(rules.duplicates.date_correction, enabled=False)
            rules = replace(rules, duplicates=replace(rules.duplicates, date_correction=correction))
        if not self.share_albums and rules.album_permissions.enabled:
            rules = replace(
                rules, album_permissions=replace(rules.album_permissions, enabled=False)
            )
        return rules
