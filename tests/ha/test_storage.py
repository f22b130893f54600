"""What an entry stores is serialised outside the event loop (a big library's album cache
holds hundreds of thousands of member ids)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from homeassistant.core import HomeAssistant

from custom_components.immich_autotag.engine.album_cache import AlbumCache
from custom_components.immich_autotag.engine.report import RunReport
from custom_components.immich_autotag.immich.models import Album
from custom_components.immich_autotag.storage import EntryStorage

from .conftest import ENTRY_ID

ASSET = "0b6b8a4e-8f57-4f3a-9b55-4c1c1f1d7e01"


class _Member:
    """A member id that notes the threads serialising it (Home Assistant's JSON encoder asks
    `as_dict` of an object it does not know)."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    def as_dict(self) -> str:
        self.threads.append(threading.get_ident())
        return ASSET


async def test_reports_and_album_cache_are_serialised_in_an_executor(
    hass: HomeAssistant, real_store_writes: None
) -> None:
    """Newer Home Assistant serialises a Store in the event loop unless told otherwise."""
    cache = AlbumCache()
    cache.bind("http://immich.local/api|user|v3")
    album = Album("a1", "Trips", "user", 1, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
    member = _Member()
    cache.put(album, [cast("str", member)])
    report = RunReport(id="r1", started_at=datetime.now(UTC), dry_run=True)
    await EntryStorage(hass, ENTRY_ID).async_save([report], cache)

    assert member.threads  # serialised, through the encoder
    assert threading.get_ident() not in member.threads  # not in the event loop's thread
    stored = Path(hass.config.path(".storage", f"immich_autotag.{ENTRY_ID}.album_cache"))
    text = await hass.async_add_executor_job(stored.read_text)
    scopes = json.loads(text)["data"]["scopes"]
    assert scopes["http://immich.local/api|user|v3"]["albums"]["a1"] == [
        album.updated_at,
        1,
        [ASSET],
    ]
