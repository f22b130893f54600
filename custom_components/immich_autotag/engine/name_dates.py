"""Dates found in file names and folder paths (docs/engine.md#dates, docs/date-cases.md).

Extraction gives *naive* wall-clock datetimes; `localize` attaches the extraction zone.
Impossible dates (month 13, 30 February, 25:00) are no date at all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, tzinfo

# Android / Samsung / Pixel / screenshots: YYYYMMDD[_-]HHMMSS anywhere (Pixel adds millis).
_CAMERA = re.compile(r"(\d{4})(\d{2})(\d{2})[_-](\d{2})(\d{2})(\d{2})")
# iPhone export: YYYY-MM-DD[_-]HH[-_]MM[-_]SS
_IPHONE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[_-](\d{2})[-_](\d{2})[-_](\d{2})")
# WhatsApp: IMG-YYYYMMDD-WA0001 (any case, date only) ...
_WHATSAPP_SHORT = re.compile(r"(?:IMG|VID)[-_]?(\d{4})(\d{2})(\d{2})-WA\d+", re.IGNORECASE)
# ... and "WhatsApp Image 2025-12-29 at 14.30.45" (case-sensitive, as the app writes it).
_WHATSAPP_LONG = re.compile(
    r"WhatsApp (?:Image|Video) (\d{4})-(\d{2})-(\d{2}) at (\d{2})\.(\d{2})\.(\d{2})"
)
_MIDNIGHT = time(0, 0)


def _first_valid(pattern: re.Pattern[str], text: str) -> datetime | None:
    """The first match of `pattern` in `text` that is a possible date."""
    for match in pattern.finditer(text):
        parts = [int(g) for g in match.groups()]
        try:
            return datetime(*parts)  # type: ignore[arg-type]  # noqa: DTZ001 - naive wall clock
        except ValueError:
            continue
    return None


def camera_date(file_name: str) -> datetime | None:
    """Camera-style date in a file name (Android, Pixel, Samsung, screenshots, iPhone)."""
    return _first_valid(_CAMERA, file_name) or _first_valid(_IPHONE, file_name)


def whatsapp_date(text: str) -> datetime | None:
    """WhatsApp date in a file name or path (`IMG-YYYYMMDD-WAn` is midnight)."""
    short = _first_valid(_WHATSAPP_SHORT, text) if "-wa" in text.lower() else None
    if short is not None:  # neither pattern can match without its marker: skip the search
        return short
    return _first_valid(_WHATSAPP_LONG, text) if "WhatsApp " in text else None


def has_time(naive: datetime) -> bool:
    """True when a wall-clock datetime is not exactly midnight."""
    return naive.time() != _MIDNIGHT


def localize(naive: datetime, zone: tzinfo) -> datetime:
    """Wall-clock time in `zone`, DST-correct, carrying the zone's real offset then.

    A time in a spring-forward gap is read with the offset before the change (the clock had
    not jumped yet) and normalised, e.g. 02:30 in Madrid on 2024-03-31 becomes 03:30+02:00.
    A time repeated by a fall-back is the first occurrence (the earlier instant).
    """
    aware = naive.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC).astimezone(zone)
