"""Album-name date spans: the reference table plus edge cases."""

from datetime import date

import pytest

from custom_components.immich_autotag.engine.album_name_dates import (
    DateSpan,
    UnparseableAlbumDateError,
    album_span,
)


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [
        ("2024-07-15 Beach", date(2024, 7, 15), date(2024, 7, 15)),
        ("2024-07 Trip", date(2024, 7, 1), date(2024, 7, 31)),
        ("2024 Summer", date(2024, 1, 1), date(2024, 12, 31)),
        ("2024", date(2024, 1, 1), date(2024, 12, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),  # leap February
        ("2023-02 Ski", date(2023, 2, 1), date(2023, 2, 28)),
        ("2024-02-29 Leap", date(2024, 2, 29), date(2024, 2, 29)),
        ("2024-07-15-Beach", date(2024, 7, 15), date(2024, 7, 15)),
        ("20240715", date(2024, 1, 1), date(2024, 12, 31)),  # starts with YYYY only
        ("2024-7 Trip", date(2024, 1, 1), date(2024, 12, 31)),  # single-digit month: year
    ],
)
def test_spans(name: str, start: date, end: date) -> None:
    assert album_span(name) == DateSpan(start, end)


@pytest.mark.parametrize("name", ["Summer 2024", "Holidays", "", "202 x", "autotag_input_meme"])
def test_undated(name: str) -> None:
    assert album_span(name) is None


@pytest.mark.parametrize(
    "name", ["2024-13-01 bad", "1999-13-45 x", "2023-02-29 x", "2024-00 x", "2024-04-31", "0000"]
)
def test_unparseable(name: str) -> None:
    with pytest.raises(UnparseableAlbumDateError):
        album_span(name)


def test_days_outside() -> None:
    span = DateSpan(date(2024, 7, 1), date(2024, 7, 31))
    assert span.days_outside(date(2024, 7, 15)) == 0
    assert span.days_outside(date(2024, 7, 1)) == 0
    assert span.days_outside(date(2024, 7, 31)) == 0
    assert span.days_outside(date(2024, 6, 30)) == 1
    assert span.days_outside(date(2024, 8, 2)) == 2
    assert span.days_outside(date(2023, 7, 31)) == 336
