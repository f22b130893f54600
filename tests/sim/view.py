"""The library as a user sees it, for comparing it before a run and after its undo.

`GET /__sim/view` answers it as JSON (`scripts/demo` compares two of them:
`python -m tests.sim.view BEFORE.json AFTER.json`).

Albums are compared by name, owner, members and users, not by id: an undo creates a deleted
album again under a new id. Tags by path. Dates as (capture instant, time zone); an asset that
had no exif date is compared by instant only (Immich has no call that removes an exif date, so
an undo restores the instant and the zone becomes UTC).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .library import SimLibrary


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


def to_json(v: View) -> dict[str, Any]:
    """A view as JSON-ready data."""
    return {
        "tags": {p: sorted(a) for p, a in v.tags.items()},
        "albums": [[n, o, list(a), [list(u) for u in us]] for n, o, a, us in v.albums],
        "dates": {a: list(d) for a, d in v.dates.items()},
        "exifless": sorted(v.exifless),
    }


def from_json(data: dict[str, Any]) -> View:
    """A view read back from `to_json`."""
    return View(
        tags={p: frozenset(a) for p, a in data["tags"].items()},
        albums=[(n, o, tuple(a), tuple((u, r) for u, r in us)) for n, o, a, us in data["albums"]],
        dates={a: (d[0], d[1]) for a, d in data["dates"].items()},
        exifless=frozenset(data["exifless"]),
    )


def main(argv: list[str]) -> int:
    """Compare two saved views; print the differences; 1 when there are any."""
    before, after = (from_json(json.loads(Path(p).read_text())) for p in argv)
    found = differences(before, after)
    for line in found[:20]:
        print(line)  # noqa: T201
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
