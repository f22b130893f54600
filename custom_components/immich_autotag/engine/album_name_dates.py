"""The span of dates an album name claims: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` at its start."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_DATED = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


class UnparseableAlbumDateError(ValueError):
    """The album name starts like a date that does not exist (e.g. month 13)."""


@dataclass(frozen=True, slots=True)
class DateSpan:
    """An inclusive range of calendar dates."""

    start: date
    end: date

    def days_outside(self, day: date) -> int:
        """How many days `day` lies before the start or after the end (0 inside)."""
        if day < self.start:
            return (self.start - day).days
        if day > self.end:
            return (day - self.end).days
        return 0


def album_span(name: str) -> DateSpan | None:
    """The year, month or day an album name starts with; None for undated names.

    Raises `UnparseableAlbumDateError` for impossible dates such as `2024-13-01 bad`.
    """
    match = _DATED.match(name)
    if match is None:
        return None
    year_s, month_s, day_s = match.groups()
    year = int(year_s)
    try:
        if month_s is None:
            return DateSpan(date(year, 1, 1), date(year, 12, 31))
        month = int(month_s)
        if day_s is None:
            first = date(year, month, 1)
            return DateSpan(first, first.replace(day=calendar.monthrange(year, month)[1]))
        day = date(year, month, int(day_s))
    except ValueError as err:
        raise UnparseableAlbumDateError(
            f"album name {name!r} starts with an impossible date"
        ) from err
    return DateSpan(day, day)
