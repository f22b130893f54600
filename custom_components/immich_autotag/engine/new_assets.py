"""Run when new photos arrive: how many arrived since the last run, and when they settled.

The count is one small request on the server's own clock: assets uploaded after the newest
`updatedAt` the last run's snapshot read (`RunReport.newest_update`), so a clock difference
between Home Assistant (or cron's machine) and Immich does not matter. A run starts once the
count is above zero and has not changed for `settle` seconds: a phone uploading a hundred
photos triggers one run after the last of them, not a hundred.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..immich.client import ImmichClient


def watermark(newest_update: str) -> str | None:
    """The first instant after `newest_update` (ISO text, server clock); None when unknown."""
    try:
        parsed = datetime.fromisoformat(newest_update)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return (parsed + timedelta(milliseconds=1)).isoformat(timespec="milliseconds")


async def count_new_assets(client: ImmichClient, newest_update: str) -> int | None:
    """Assets uploaded since the snapshot that read `newest_update` (None: no watermark)."""
    since = watermark(newest_update)
    if since is None:
        return None
    return await client.count_assets_created_after(since)


@dataclass
class Settle:
    """Debounce: a run is due once the count is above zero and stable for `settle` seconds."""

    settle: float
    count: int = 0
    changed_at: float | None = None

    def observe(self, count: int, now: float) -> bool:
        """Record a count seen at `now` (monotonic seconds); True when a run is due."""
        if count != self.count or self.changed_at is None:
            self.count, self.changed_at = count, now
        return count > 0 and now - self.changed_at >= self.settle

    def reset(self) -> None:
        """After a run: nothing new yet."""
        self.count, self.changed_at = 0, None
