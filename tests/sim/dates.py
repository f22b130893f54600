"""Dates as the simulator keeps and shows them: epoch milliseconds, Immich's ISO format, zones.

Years outside 1-9999 (a local time a real server keeps after a far zone shift) are moved by
whole 400-year cycles, in which the calendar repeats, so Python's datetime can format them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ms(moment: datetime) -> int:
    """Aware datetime -> epoch ms (naive = UTC wall clock)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(milliseconds=1)


_CYCLE_MS = 146_097 * 86_400_000  # 400 Gregorian years: the calendar repeats
_FIRST_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
_LAST_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


def _in_range(ms: int) -> tuple[datetime, int]:
    """The UTC moment of `ms` moved by whole 400-year cycles into years 1-9999, and the
    years moved (local times past 9999 or before 1 exist on a real server)."""
    shift = 0
    while ms > _LAST_MS:
        ms, shift = ms - _CYCLE_MS, shift + 400
    while ms < _FIRST_MS:
        ms, shift = ms + _CYCLE_MS, shift - 400
    return EPOCH + timedelta(milliseconds=ms), shift


def iso(ms: int) -> str:
    """Epoch ms -> `2024-07-15T10:10:10.000Z` (Immich's format; JavaScript's `+010000-…` for
    years past 9999 and `-000001-…` before year 0)."""
    moment, shift = _in_range(ms)
    year = moment.year + shift
    text = f"{year:04d}" if 0 <= year <= 9999 else f"{'+' if year > 0 else '-'}{abs(year):06d}"
    return text + moment.strftime("-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def zone_label(offset_minutes: int) -> str:
    """Fixed offset -> Immich's `UTC+2` / `UTC-3:30` / `UTC` label."""
    if offset_minutes == 0:
        return "UTC"
    sign = "+" if offset_minutes > 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


def zone_offset_ms(zone: str | None, instant_ms: int) -> int:
    """UTC offset (ms) of `zone` (IANA or `UTC+2`) at an instant; 0 when unknown/None."""
    if not zone or zone == "UTC":
        return 0
    if zone.startswith("UTC") and zone[3:4] in "+-":
        sign = 1 if zone[3] == "+" else -1
        hours, _, minutes = zone[4:].partition(":")
        return sign * (int(hours) * 60 + int(minutes or 0)) * 60_000
    try:
        info = ZoneInfo(zone)
    except (KeyError, ValueError):
        return 0
    moment, _ = _in_range(instant_ms)
    try:
        offset = moment.astimezone(info).utcoffset()
    except OverflowError:  # the last hours of 9999 (or first of year 1) in a far zone
        offset = info.utcoffset(moment.replace(tzinfo=None))
    return int(offset.total_seconds() * 1000) if offset else 0
