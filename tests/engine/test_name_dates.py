"""Dates in file names and paths: every row of the camera and WhatsApp tables, DST, leap days."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from custom_components.immich_autotag.engine.name_dates import (
    camera_date,
    has_time,
    localize,
    whatsapp_date,
)

MADRID = ZoneInfo("Europe/Madrid")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("20251215_092429.jpg", datetime(2025, 12, 15, 9, 24, 29)),
        ("IMG_20240715_101010.jpg", datetime(2024, 7, 15, 10, 10, 10)),
        ("VID_20230101_235959.mp4", datetime(2023, 1, 1, 23, 59, 59)),
        ("PXL_20220304_123456789.jpg", datetime(2022, 3, 4, 12, 34, 56)),
        ("Screenshot_20210102-030405.png", datetime(2021, 1, 2, 3, 4, 5)),
        ("2025-12-15_09-24-29.jpg", datetime(2025, 12, 15, 9, 24, 29)),
        ("2025-12-15-09_24_29.png", datetime(2025, 12, 15, 9, 24, 29)),
        ("20251315_092429.jpg", None),
        ("IMG-20190512-WA0003.jpg", None),
        ("photo_2021-05-06 07.08.09.jpg", None),
        ("DSC0001.jpg", None),
        ("12345678_123456.jpg", None),
    ],
)
def test_camera_table(name: str, expected: datetime | None) -> None:
    assert camera_date(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("20240229_120000.jpg", datetime(2024, 2, 29, 12)),  # leap day
        ("20230229_120000.jpg", None),  # no 29 February in 2023
        ("20000229_000001.jpg", datetime(2000, 2, 29, 0, 0, 1)),  # 2000 was a leap year
        ("19000229_120000.jpg", None),  # 1900 was not
        ("20240101_250000.jpg", None),  # hour 25
        ("20240101_126000.jpg", None),  # minute 60
        ("2024-02-30_10-00-00.jpg", None),
        ("IMG_20251315_092429_20240102_030405.jpg", datetime(2024, 1, 2, 3, 4, 5)),
    ],
)
def test_camera_impossible_dates_and_leap_days(name: str, expected: datetime | None) -> None:
    assert camera_date(name) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IMG-20190512-WA0003.jpg", "2019-05-12T00:00:00+02:00"),
        ("VID-20251229-WA0004.mp4", "2025-12-29T00:00:00+01:00"),
        ("img-20200101-wa12.JPG", "2020-01-01T00:00:00+01:00"),
        ("IMG20200101-WA1.jpg", "2020-01-01T00:00:00+01:00"),
        ("IMG_20200101-WA1.jpg", "2020-01-01T00:00:00+01:00"),
        ("IMG-20201301-WA0001.jpg", None),
        ("WhatsApp Image 2025-12-29 at 14.30.45.jpeg", "2025-12-29T14:30:45+01:00"),
        ("WhatsApp Video 2024-02-03 at 01.02.03.mp4", "2024-02-03T01:02:03+01:00"),
        ("whatsapp image 2025-12-29 at 14.30.45.jpeg", None),
        ("/data/WhatsApp/Media/IMG-20180101-WA0000.jpg", "2018-01-01T00:00:00+01:00"),
        ("IMG_20240715_101010.jpg", None),
    ],
)
def test_whatsapp_table(text: str, expected: str | None) -> None:
    naive = whatsapp_date(text)
    if expected is None:
        assert naive is None
    else:
        assert naive is not None
        assert localize(naive, MADRID).isoformat() == expected


def test_whatsapp_leap_day_and_impossible_day() -> None:
    assert whatsapp_date("IMG-20240229-WA0001.jpg") == datetime(2024, 2, 29)
    assert whatsapp_date("IMG-20230229-WA0001.jpg") is None
    assert whatsapp_date("WhatsApp Image 2023-02-29 at 10.00.00.jpeg") is None


def test_has_time() -> None:
    assert not has_time(datetime(2020, 1, 1))
    assert has_time(datetime(2020, 1, 1, 0, 0, 1))
    assert has_time(datetime(2020, 1, 1, 12))


def test_localize_dst_offsets() -> None:
    assert localize(datetime(2024, 1, 15, 10), MADRID).isoformat() == "2024-01-15T10:00:00+01:00"
    assert localize(datetime(2024, 7, 15, 10), MADRID).isoformat() == "2024-07-15T10:00:00+02:00"
    # Just before and after the spring-forward change (02:00 -> 03:00 on 2024-03-31).
    assert localize(datetime(2024, 3, 31, 1, 59, 59), MADRID).isoformat() == (
        "2024-03-31T01:59:59+01:00"
    )
    assert localize(datetime(2024, 3, 31, 3), MADRID).isoformat() == "2024-03-31T03:00:00+02:00"


def test_localize_spring_forward_gap_is_normalised() -> None:
    # 02:30 does not exist in Madrid on 2024-03-31: read with the pre-change offset.
    value = localize(datetime(2024, 3, 31, 2, 30), MADRID)
    assert value.isoformat() == "2024-03-31T03:30:00+02:00"
    assert value.astimezone(ZoneInfo("UTC")).isoformat() == "2024-03-31T01:30:00+00:00"


def test_localize_fall_back_overlap_takes_first_occurrence() -> None:
    # 02:30 happens twice in Madrid on 2024-10-27: the first one (+02:00) is the earlier.
    value = localize(datetime(2024, 10, 27, 2, 30), MADRID)
    assert value.isoformat() == "2024-10-27T02:30:00+02:00"
    assert value.astimezone(ZoneInfo("UTC")).isoformat() == "2024-10-27T00:30:00+00:00"
