"""Deterministic, realistic Immich libraries of any size for tests, demos and benchmarks.

Two profiles (`PROFILES`, `generate_profile`):

- `generated`: photos cluster on shooting days (about 18 a day), a third of the days are
  events kept in a dated folder, up to 400 of those folders are albums, 3 % of the dates are
  wrong.
- `independent`: the proportions of an independent 26,562-asset test library — about 7
  photos a day on nearly every day of eleven years (so about 3,700 days need a holding album),
  about 1,000 albums, and about 19 % of the assets need a date repair.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from .dates import EPOCH, zone_label, zone_offset_ms
from .library import SimLibrary
from .records import SimAlbum, SimAsset, SimUser

HOME = "Europe/Madrid"  # the zone most photos were taken in (matches the example rules)
ZONES = ("Europe/Madrid", "Europe/Berlin", "UTC+2", "America/New_York", "UTC", "Asia/Tokyo")
EVENTS = ("Party", "Beach", "Wedding", "Birthday", "Hiking", "Christmas", "Trip to Rome")
_START = int((datetime(2015, 1, 1) - datetime(1970, 1, 1)).total_seconds())
_SPAN = int((datetime(2025, 12, 31) - datetime(2015, 1, 1)).total_seconds())


def _file_name(kind: int, wall: datetime, rng: random.Random, n: int) -> str:  # noqa: PLR0911
    stamp = wall.strftime
    match kind:
        case 0:
            return f"IMG_{stamp('%Y%m%d_%H%M%S')}.jpg"
        case 1:
            return f"PXL_{stamp('%Y%m%d_%H%M%S')}{rng.randrange(1000):03d}.jpg"
        case 2:
            return f"{stamp('%Y%m%d_%H%M%S')}.jpg"
        case 3:
            return f"Screenshot_{stamp('%Y%m%d-%H%M%S')}.png"
        case 4:
            return f"{stamp('%Y-%m-%d_%H-%M-%S')}.jpg"
        case 5:
            return f"IMG-{stamp('%Y%m%d')}-WA{n % 10000:04d}.jpg"
        case 6:
            return f"WhatsApp Image {stamp('%Y-%m-%d')} at {stamp('%H.%M.%S')}.jpeg"
        case _:
            return f"DSC{n % 100000:05d}.jpg"


def generate_library(
    n_assets: int,
    seed: int = 0,
    *,
    n_albums: int | None = None,
    wrong_date_ratio: float = 0.03,
    others_ratio: float = 0.05,
    photos_per_day: int = 18,
    naive_exif_ratio: float = 0.0,
) -> SimLibrary:
    """Build a library of `n_assets` assets; the first user (`me@example.com`) owns most.

    The key for `me` is `lib.keys` first entry (`all`); `generator_key(lib)` returns it.
    `naive_exif_ratio` of the photos with EXIF have a date without an offset, which Immich
    stores as if it were UTC with no time zone (measured on v3.1).
    """
    rng = random.Random(seed)
    lib = SimLibrary(seed=seed)
    me = lib.add_user("me@example.com", "Me")
    others = [lib.add_user(f"{n}@example.com", n.title()) for n in ("alice", "bob", "carol")]
    lib.add_api_key(me, permissions={"all"})
    lib.add_api_key(others[0], permissions={"all"}, name="alice")
    zone_offsets: dict[tuple[str, int], int] = {}
    my_assets: list[SimAsset] = []
    folders: list[tuple[str, list[SimAsset]]] = []
    current_folder: list[SimAsset] = []
    folder_name = ""
    # Photos cluster on shooting days (`photos_per_day`), mostly at home (Europe/Madrid),
    # some days are events kept in a dated folder: a library as people really have them.
    span_days = _SPAN // 86_400
    shooting_days = min(span_days, max(1, n_assets // photos_per_day))
    days = sorted(rng.sample(range(span_days), shooting_days))
    day_index = -1
    for n in range(n_assets):
        owner = others[n % 3] if rng.random() < others_ratio else me
        if n * len(days) // n_assets != day_index:
            day_index = n * len(days) // n_assets
            day_start = _START + days[day_index] * 86_400
            event = rng.random() < 0.3
            day = datetime(1970, 1, 1) + timedelta(seconds=day_start)
            folder_name = f"{day:%Y-%m-%d} {EVENTS[rng.randrange(len(EVENTS))]}"
            current_folder = []
            if event:
                folders.append((folder_name, current_folder))
        wall_s = day_start + 8 * 3600 + rng.randrange(14 * 3600)
        wall = datetime(1970, 1, 1) + timedelta(seconds=wall_s)
        kind = rng.randrange(8)
        name = _file_name(kind, wall, rng, n)
        if kind in {5, 6}:
            path = f"/photos/WhatsApp/{wall:%Y}/{name}"
        elif event:
            path = f"/photos/{folder_name}/{name}"
        else:
            path = f"/photos/{wall:%Y}/{wall:%m}/{name}"
        exif_zone = HOME if rng.random() < 0.95 else ZONES[rng.randrange(len(ZONES))]
        zone = exif_zone if kind not in {3, 5, 6} else None
        bucket = (zone or HOME, wall_s // 2_592_000)  # no exif: the file time, at home
        offset = zone_offsets.get(bucket)
        if offset is None:
            offset = zone_offsets[bucket] = zone_offset_ms(zone or HOME, wall_s * 1000)
        naive = bool(zone) and naive_exif_ratio > 0 and rng.random() < naive_exif_ratio
        if naive:  # the wall clock stored as UTC, no zone
            zone, offset = None, 0
        instant = wall_s * 1000 - offset
        if rng.random() < wrong_date_ratio:
            instant += rng.randrange(1, 400) * 86_400_000  # Immich date later than the name date
        visibility = "archive" if rng.random() < 0.03 else "timeline"
        asset = SimAsset(
            lib.new_id(),
            owner.id,
            name,
            path,
            instant,
            instant + offset,
            instant if zone or naive else None,
            zone,
            None,
            visibility,
            rng.random() < 0.005,
            lib.clock_ms,
        )
        lib.assets[asset.id] = asset
        if owner is me:
            my_assets.append(asset)
            if path.startswith(f"/photos/{folder_name}/"):
                current_folder.append(asset)
    _add_duplicates(lib, rng, my_assets)
    _add_tags(lib, rng, me, my_assets)
    _add_albums(lib, rng, me, others, my_assets, folders, n_albums)
    lib.revision += 1
    return lib


PROFILES: dict[str, dict[str, Any]] = {
    "generated": {},
    "independent": {"photos_per_day": 7, "wrong_date_ratio": 0.195, "n_albums": 1000},
}


def generate_profile(profile: str, n_assets: int, seed: int = 0) -> SimLibrary:
    """A library of one of the `PROFILES` (raises KeyError for an unknown name)."""
    return generate_library(n_assets, seed, **PROFILES[profile])


def generator_key(lib: SimLibrary) -> str:
    """The `all` API key of `me@example.com` in a generated library."""
    me = lib.user_by_email("me@example.com")
    return next(k.secret for k in lib.keys.values() if k.user_id == me.id)


def _add_duplicates(lib: SimLibrary, rng: random.Random, assets: list[SimAsset]) -> None:
    for _ in range(len(assets) // 100):
        size = 2 if rng.random() < 0.7 else 3
        first = assets[rng.randrange(len(assets))]
        group = lib.new_id()
        first.duplicate_id = group
        for _i in range(size - 1):
            twin = assets[rng.randrange(len(assets))]
            twin.duplicate_id = group
            twin.file_name, twin.path = (
                first.file_name,
                first.path.replace("/photos/", "/photos/backup/"),
            )
            twin.exif_ms = first.exif_ms if rng.random() < 0.5 else twin.exif_ms


def _add_tags(lib: SimLibrary, rng: random.Random, me: SimUser, assets: list[SimAsset]) -> None:
    paths = (
        "meme",
        "autotag_input_meme",
        "autotag_input_ignore",
        "events/party",
        "events/wedding",
        "people/family",
    )
    tags = [lib.add_tag(me, p) for p in paths]
    for tag in tags:
        count = max(1, len(assets) // 40)
        tag.assets.update(assets[rng.randrange(len(assets))].id for _ in range(count) if assets)


def _add_albums(  # noqa: PLR0917
    lib: SimLibrary,
    rng: random.Random,
    me: SimUser,
    others: list[SimUser],
    assets: list[SimAsset],
    folders: list[tuple[str, list[SimAsset]]],
    n_albums: int | None,
) -> None:
    limit = n_albums if n_albums is not None else max(4, min(400, len(folders) // 4))
    albums: list[SimAlbum] = []
    for name, members in folders[:limit]:
        if members:
            albums.append(lib.add_album(me, name, [a.id for a in members]))
    year = 2015 + rng.randrange(11)
    pool = assets[: max(1, len(assets) // 20)]
    albums.append(lib.add_album(me, f"{year} Holidays", [a.id for a in pool[:200]]))
    albums.append(
        lib.add_album(
            me, "Favourites", [a.id for a in pool[200:300]], users=[(others[0], "editor")]
        )
    )
    albums.append(lib.add_album(me, "autotag_input_meme", [a.id for a in pool[300:350]]))
    albums.append(lib.add_album(me, "autotag_input_ignore", [a.id for a in pool[350:380]]))
    theirs = [a.id for a in lib.assets.values() if a.owner_id == others[0].id][:50]
    lib.add_album(others[0], "Alice shares", theirs, users=[(me, "viewer")])
    for album in albums:
        album.thumbnail_id = next(iter(album.assets), None)


__all__ = [
    "EPOCH",
    "PROFILES",
    "generate_library",
    "generate_profile",
    "generator_key",
    "zone_label",
]
