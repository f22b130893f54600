"""The library as a user sees it, for comparing it before a run and after its undo.

Albums are compared by name, owner, members and users, not by id: an undo creates a deleted
album again under a new id. Tags by path. Dates as (capture instant, time zone); an asset that
had no exif date is compared by instant only (Immich has no call that removes an exif date, so
an undo restores the instant and the zone becomes UTC).
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.sim.library import SimLibrary


@dataclass(frozen=True)
class View:
    """Tags, albums and dates of one user's library."""

    tags: dict[str, frozenset[str]]  # path -> assets
    albums: list[tuple[str, str, tuple[str, ...], tuple[tuple[str, str], ...]]]
    dates: dict[str, tuple[int, str | None]]  # asset id -> (capture ms, zone)
    exifless: frozenset[str]  # assets without an exif date


def view(lib: SimLibrary, email: str = "me@example.com") -> View:
    me = lib.user_by_email(email)
    return View(
        tags={t.value: frozenset(t.assets) for t in lib.tags_of_user(me).values()},
        albums=sorted(
            (a.name, a.owner_id, tuple(sorted(a.assets)), tuple(sorted(a.users.items())))
            for a in lib.albums.values()
        ),
        dates={
            a.id: (a.exif_ms if a.exif_ms is not None else a.file_created_ms, a.time_zone)
            for a in lib.assets.values()
        },
        exifless=frozenset(a.id for a in lib.assets.values() if a.exif_ms is None),
    )


def differences(before: View, after: View) -> list[str]:
    """What differs between two views (empty when the library is as it was)."""
    out = [
        f"tag {path}: {before.tags.get(path)} -> {after.tags.get(path)}"
        for path in sorted(set(before.tags) | set(after.tags))
        if before.tags.get(path) != after.tags.get(path)
    ]
    if before.albums != after.albums:
        gone = [a for a in before.albums if a not in after.albums]
        new = [a for a in after.albums if a not in before.albums]
        out.append(f"albums: {gone} -> {new}")
    for asset_id, (ms, zone) in before.dates.items():
        now = after.dates.get(asset_id)
        if now is None:
            out.append(f"asset {asset_id} gone")
        elif now[0] != ms or (asset_id not in before.exifless and now[1] != zone):
            out.append(f"date {asset_id}: {(ms, zone)} -> {now}")
    return out
