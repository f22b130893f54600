"""Apply a Plan to a LibraryBuilder in memory, the way Immich would (for property tests)."""

from __future__ import annotations

import copy
from datetime import datetime

from custom_components.immich_autotag.engine.plan import Plan
from custom_components.immich_autotag.immich.models import Album, AlbumUser

from .builders import LibraryBuilder, new_id


def zone_label(value: datetime) -> str:
    """Immich's label for a fixed offset: `UTC+2`, `UTC-5:30`, `UTC`."""
    offset = value.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def replay(builder: LibraryBuilder, plan: Plan) -> LibraryBuilder:
    """A new builder holding the library after `plan` was applied."""
    out = copy.deepcopy(builder)
    lib = out.lib
    for path in plan.tag_creates:
        out.tag(path)
    for path, assets in plan.tag_adds.items():
        out.tag(path, *assets)
    for path, assets in plan.tag_removes.items():
        out._tag_direct[path] = out._tag_direct.get(path, set()) - assets
    for path in plan.tag_deletes:
        lib.tags.pop(path, None)
        out._tag_direct.pop(path, None)
    emails = {u.id: u.email for u in lib.users}
    for name, assets in plan.album_creates.items():
        album_id = new_id(0xC)
        members = plan.album_create_users.get(name, ())
        lib.albums[album_id] = Album(
            id=album_id,
            name=name,
            owner_id=lib.me.id,
            asset_count=len(assets),
            updated_at="2030-01-01T00:00:00.000Z",
            created_at="2030-01-01T00:00:00.000Z",
            users=tuple(AlbumUser(u, emails[u], r) for u, r in members),
        )
        out._album_members[album_id] = set(assets)
    for album_id, assets in plan.album_adds.items():
        out._album_members[album_id] |= assets
    for album_id, assets in plan.album_removes.items():
        out._album_members[album_id] -= assets
    for album_id in plan.album_deletes:
        del lib.albums[album_id]
        out._album_members.pop(album_id, None)
    for value, assets in plan.date_sets.items():
        instant = datetime.fromisoformat(value)
        for a in assets:
            lib.assets[a] = lib.assets[a]._replace(instant=instant, time_zone=zone_label(instant))
    for change in plan.album_users:
        album = lib.albums[change.album_id]
        users = {u.user_id: u for u in album.users}
        if change.role is None:
            users.pop(change.user_id, None)
        else:
            email = next(u.email for u in lib.users if u.id == change.user_id)
            users[change.user_id] = AlbumUser(change.user_id, email, change.role)
        lib.albums[change.album_id] = Album(
            id=album.id,
            name=album.name,
            owner_id=album.owner_id,
            asset_count=album.asset_count,
            updated_at=album.updated_at,
            created_at=album.created_at,
            users=tuple(users.values()),
        )
    return out
