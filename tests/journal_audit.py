"""Compare what a run changed on the simulator with what it journaled.

`picture(lib)` records the simulator's state; `changes(before, after)` lists every change
between two pictures; `assert_journaled(before, after, lines)` checks that each change is in the
journal (uncertain entries count: the run could not know whether the server applied them) and
that the journal's old values are the state before the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from custom_components.immich_autotag.engine.lease import LEASE_PREFIX
from tests.sim.dates import EPOCH
from tests.sim.library import SimLibrary


@dataclass(frozen=True)
class Picture:
    """What a run can change: tags, albums (members, users) and capture dates."""

    tags: dict[str, tuple[str, frozenset[str]]]  # tag id -> (value, assets)
    albums: dict[str, tuple[str, frozenset[str], dict[str, str]]]  # id -> (name, assets, users)
    dates: dict[str, tuple[int, str | None]]  # asset id -> (capture ms, time zone)


def picture(lib: SimLibrary) -> Picture:
    """The state a journal accounts for: a run's lease tag is its bookkeeping, not a change."""
    return Picture(
        tags={
            t.id: (t.value, frozenset(t.assets))
            for t in lib.tags.values()
            if not t.value.startswith(LEASE_PREFIX)
        },
        albums={a.id: (a.name, frozenset(a.assets), dict(a.users)) for a in lib.albums.values()},
        dates={
            a.id: (a.exif_ms if a.exif_ms is not None else a.file_created_ms, a.time_zone)
            for a in lib.assets.values()
        },
    )


def changes(before: Picture, after: Picture) -> set[tuple[str, ...]]:
    """Every change from `before` to `after`, as (kind, target, item) tuples."""
    out: set[tuple[str, ...]] = set()
    for tag_id, (value, assets) in after.tags.items():
        old = before.tags.get(tag_id)
        if old is None:
            out.add(("tag_create", value, ""))
        out.update(("tag_add", value, a) for a in assets - (old[1] if old else frozenset()))
        if old is not None:
            out.update(("tag_remove", value, a) for a in old[1] - assets)
    out.update(("tag_delete", v, "") for t, (v, _) in before.tags.items() if t not in after.tags)
    for album_id, (_, assets, users) in after.albums.items():
        old_album = before.albums.get(album_id)
        if old_album is None:
            out.add(("album_create", album_id, ""))
        old_assets = old_album[1] if old_album else frozenset()
        out.update(("album_add", album_id, a) for a in assets - old_assets)
        out.update(("album_remove", album_id, a) for a in old_assets - assets)
        old_users = old_album[2] if old_album else {}
        out.update(
            ("album_user", album_id, u)
            for u in set(users) | set(old_users)
            if users.get(u) != old_users.get(u)
        )
    out.update(("album_delete", a, "") for a in before.albums if a not in after.albums)
    out.update(
        ("date_set", "", a) for a, value in after.dates.items() if before.dates.get(a) != value
    )
    return out


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def covered(lines: list[dict[str, Any]], after: Picture) -> set[tuple[str, ...]]:
    """The changes the journal's entries account for."""
    names: dict[str, set[str]] = {}
    for album_id, (name, _, _) in after.albums.items():
        names.setdefault(name, set()).add(album_id)
    out: set[tuple[str, ...]] = set()
    for e in lines:
        kind, target, ids = e.get("kind"), str(e.get("target") or ""), e.get("ids", [])
        if kind is None:
            continue  # a run's first or last line
        if kind in {"tag_add", "tag_remove"}:
            out.update((kind, target, a) for a in ids)
        elif kind == "tag_create":  # creating a/b creates a if it was missing
            parts = target.split("/")
            out.update(("tag_create", "/".join(parts[:n]), "") for n in range(1, len(parts) + 1))
        elif kind == "tag_delete":
            out.add(("tag_delete", target, ""))
        elif kind == "album_create":
            created = {e["new"]} if e.get("new") else names.get(target, set())
            for album_id in created:
                out.add(("album_create", album_id, ""))
                out.update(("album_add", album_id, a) for a in ids)
                out.update(("album_user", album_id, u["user_id"]) for u in e.get("users", []))
        elif kind in {"album_add", "album_remove"}:
            out.update((kind, e["album_id"], a) for a in ids)
        elif kind == "album_delete":
            out.add(("album_delete", e["album_id"], ""))
        elif kind.startswith("album_user_"):
            out.update(("album_user", e["album_id"], u) for u in ids)
        elif kind == "date_set":
            out.update(("date_set", "", a) for a in ids)
    return out


def assert_journaled(before: Picture, after: Picture, lines: list[dict[str, Any]]) -> None:
    """Every change is journaled, every line names its run, and old values are the real ones."""
    missing = changes(before, after) - covered(lines, after)
    assert not missing, f"changes missing from the journal: {sorted(missing)[:20]}"
    runs = {line["run"] for line in lines}
    assert None not in runs
    for line in lines:
        if line.get("kind") == "date_set":
            for asset_id, old in line["old"].items():
                ms, zone = before.dates[asset_id]
                assert datetime.fromisoformat(old["date"]) == _instant(ms), asset_id
                assert old["time_zone"] == zone, asset_id
        elif str(line.get("kind")).startswith("album_user_") and line["album_id"] in before.albums:
            users = before.albums[line["album_id"]][2]
            assert line["old_role"] == users.get(line["ids"][0]), line


def _instant(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)
