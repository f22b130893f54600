"""Time zones as Immich names them (IANA names, `UTC`, `UTC+2`) and instants seen in them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@lru_cache(maxsize=512)
def parse_zone(name: str | None) -> ZoneInfo | timezone | None:
    """IANA name, `UTC`, or Immich's `UTC+2` / `UTC-05:30`; None when unknown."""
    if not name:
        return None
    if name.startswith("UTC") and len(name) > 3 and name[3] in "+-":  # noqa: PLR2004
        sign = -1 if name[3] == "-" else 1
        hours, _, minutes = name[4:].partition(":")
        try:
            delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        except ValueError:
            return None
        return timezone(sign * delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def in_zone(value: datetime, zone: tzinfo) -> datetime | None:
    """`value` seen in `zone`; None when that falls outside years 1-9999.

    E.g. the last second of 9999 UTC in Tokyo: such a date is unusable, never a reason to fail.
    """
    try:
        return value.astimezone(zone)
    except OverflowError:
        return None
