"""Asset dates at the edge of the calendar parse (clamped), never fail a run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from custom_components.immich_autotag.immich import asset_parsing
from custom_components.immich_autotag.immich.asset_parsing import _parse_asset_checked, parse_asset
from custom_components.immich_autotag.immich.errors import ImmichInvalidResponseError
from custom_components.immich_autotag.immich.parsing import FIRST_INSTANT, LAST_INSTANT

from . import payloads as p


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("9999-12-31T23:59:59.000Z", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("+010000-01-01T04:00:00.000Z", LAST_INSTANT),  # JavaScript's form past year 9999
        ("-000001-12-31T00:00:00.000Z", FIRST_INSTANT),
        ("0000-12-31T22:00:00.000Z", FIRST_INSTANT),  # year 0 (1 BC)
        ("0001-01-01T00:00:00+01:00", FIRST_INSTANT),  # before year 1 in UTC
        ("9999-12-31T23:00:00-05:00", LAST_INSTANT),  # after 9999 in UTC
        ("0001-01-01T00:00:00.000Z", FIRST_INSTANT),
        ("2020-01-01T00:00:00", datetime(2020, 1, 1, tzinfo=UTC)),  # naive: UTC
        ("2020-01-01T00:00:00+14:00", datetime(2019, 12, 31, 10, tzinfo=UTC)),
    ],
)
def test_edge_dates_parse(original: str, expected: datetime) -> None:
    item = p.asset(1)
    item["exifInfo"]["dateTimeOriginal"] = original
    item["fileCreatedAt"] = original
    asset = parse_asset(item)
    assert asset.date_time_original == expected
    assert asset.file_created_at == expected
    assert asset.capture_instant.tzinfo is UTC


@pytest.mark.parametrize("bad", ["yesterday", "+10000-01-01T00:00:00Z", "2020-13-01T00:00:00Z"])
def test_malformed_dates_are_still_invalid_responses(bad: str) -> None:
    item = p.asset(1)
    item["fileCreatedAt"] = bad
    with pytest.raises(ImmichInvalidResponseError, match="fileCreatedAt"):
        parse_asset(item)


def _variants() -> list[dict[str, Any]]:
    """The usual page item and shapes that leave the one-pass read for the checked one."""
    usual = p.asset(1)
    no_exif = p.asset(2)
    del no_exif["exifInfo"]
    v2 = p.asset(3)
    del v2["visibility"]
    v2["isArchived"] = True
    offset = p.asset(4)
    offset["fileCreatedAt"] = "2020-01-01T10:00:00+02:00"
    null_dates = p.asset(5)
    null_dates["exifInfo"]["dateTimeOriginal"] = None
    null_dates["exifInfo"]["timeZone"] = None
    no_updated = p.asset(6)
    del no_updated["updatedAt"]
    return [usual, no_exif, v2, offset, null_dates, no_updated]


@pytest.mark.parametrize("item", _variants())
def test_one_pass_read_equals_the_checked_read(item: dict[str, Any]) -> None:
    assert parse_asset(item) == _parse_asset_checked(item)
    assert parse_asset(item).capture_instant.tzinfo is UTC


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", 7), ("exifInfo", []), ("duplicateId", 3), ("isTrashed", "no"), ("originalPath", None)],
)
def test_a_wrong_type_is_an_invalid_response_naming_it(field: str, value: object) -> None:
    item = p.asset(1)
    item[field] = value
    with pytest.raises(ImmichInvalidResponseError, match=field):
        parse_asset(item)


def test_the_usual_item_takes_the_one_pass_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def checked(_data: object) -> None:
        raise AssertionError("the checked read was used")

    monkeypatch.setattr(asset_parsing, "_parse_asset_checked", checked)
    assert parse_asset(p.asset(1)).id == p.aid(1)
