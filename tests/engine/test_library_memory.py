"""The library's memory layout: what a million assets must not cost.

A full garbage collection walks every object CPython tracks, holding the event loop; the
asset columns must not be among them once loaded, and strings repeated across assets (time
zones, duplicate groups) must be held once.
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime

from custom_components.immich_autotag.engine.library import AssetRecord
from custom_components.immich_autotag.immich.models import Asset

from .builders import ME, LibraryBuilder


def _asset(asset_id: str, zone: str, duplicate: str) -> Asset:
    # Built from separate strings, as two JSON items would give them.
    return Asset(
        id=asset_id,
        owner_id=ME.id,
        original_file_name="IMG_1.jpg",
        original_path="/photos/2020/IMG_1.jpg",
        file_created_at=datetime(2020, 1, 1, tzinfo=UTC),
        date_time_original=None,
        time_zone="".join(zone),
        duplicate_id="".join(duplicate),
        visibility="timeline",
        is_trashed=False,
    )


def test_loaded_columns_are_not_tracked_by_the_garbage_collector() -> None:
    b = LibraryBuilder()
    for n in range(3):
        b.asset(f"IMG_{n}.jpg", duplicate_id="dup-1")
    lib = b.build()
    gc.collect()
    columns = (
        lib.assets.ids,
        lib.assets.file_names,
        lib.assets.folders,
        lib.assets.instants,
        lib.assets.time_zones,
        lib.assets.duplicate_ids,
        lib.assets.owned,
    )
    assert not any(gc.is_tracked(column) for column in columns)
    assert lib.duplicate_groups == {"dup-1": (0, 1, 2)}


def test_a_loaded_table_can_still_be_changed() -> None:
    b = LibraryBuilder()
    first = b.asset("IMG_0.jpg")
    b.asset("IMG_1.jpg")
    lib = b.build()
    later = datetime(2021, 5, 6, 7, tzinfo=UTC)
    lib.assets[first] = lib.assets[first]._replace(instant=later, time_zone="Europe/Madrid")
    lib.add_asset(lib.assets[first]._replace(id="another-id", file_name="IMG_2.jpg"))
    assert lib.assets[first].instant == later
    assert lib.assets.time_zones[first] == "Europe/Madrid"
    assert [r.file_name for r in lib.assets] == ["IMG_0.jpg", "IMG_1.jpg", "IMG_2.jpg"]
    assert lib.index["another-id"] == 2


def test_repeated_strings_are_held_once() -> None:
    one = AssetRecord.from_asset(_asset("a-1", "Europe/Madrid", "dup-7"), ME.id)
    two = AssetRecord.from_asset(_asset("a-2", "Europe/Madrid", "dup-7"), ME.id)
    assert one.time_zone is two.time_zone
    assert one.duplicate_id is two.duplicate_id
    assert one.folder is two.folder
