"""A simulator library saved as JSON and read back (`python -m tests.sim --library FILE`)."""

from __future__ import annotations

from pathlib import Path

import orjson

from .library import SimLibrary
from .records import SimAlbum, SimApiKey, SimAsset, SimTag, SimUser


def save_library(lib: SimLibrary, path: Path) -> None:
    """Write the library as JSON."""
    data = {
        "clock": lib.clock_ms,
        "users": [[u.id, u.email, u.name] for u in lib.users.values()],
        "keys": [
            [k.id, k.secret, k.user_id, k.name, sorted(k.permissions)] for k in lib.keys.values()
        ],
        "assets": [
            [
                a.id,
                a.owner_id,
                a.file_name,
                a.path,
                a.file_created_ms,
                a.local_ms,
                a.exif_ms,
                a.time_zone,
                a.duplicate_id,
                a.visibility,
                a.trashed,
                a.created_ms,
            ]
            for a in lib.assets.values()
        ],
        "tags": [
            [t.id, t.owner_id, t.value, t.parent_id, t.created_ms, sorted(t.assets)]
            for t in lib.tags.values()
        ],
        "albums": [
            [
                a.id,
                a.owner_id,
                a.name,
                a.created_ms,
                a.updated_ms,
                a.description,
                a.users,
                list(a.assets),
            ]
            for a in lib.albums.values()
        ],
    }
    path.write_bytes(orjson.dumps(data))


def load_library(path: Path) -> SimLibrary:
    """Read a library written by `save_library`."""
    data = orjson.loads(path.read_bytes())
    lib = SimLibrary()
    lib.clock_ms = data["clock"]
    for uid, email, name in data["users"]:
        lib.users[uid] = SimUser(uid, email, name)
    for kid, secret, user_id, name, perms in data["keys"]:
        lib.keys[secret] = SimApiKey(kid, secret, user_id, name, frozenset(perms))
    for row in data["assets"]:
        lib.assets[row[0]] = SimAsset(*row)
    for tid, owner, value, parent, created, assets in data["tags"]:
        lib.tags[tid] = SimTag(tid, owner, value, parent, created, created, assets=set(assets))
    for aid, owner, name, created, updated, desc, users, assets in data["albums"]:
        album = SimAlbum(
            aid, owner, name, created, updated, desc, dict(users), dict.fromkeys(assets)
        )
        album.thumbnail_id = next(iter(album.assets), None)
        lib.albums[aid] = album
    return lib
