"""Asset records and search pages: the parsing a library read spends its time in.

`parse_asset` reads the usual item in one pass and leaves anything else to the field-by-field
checks of `parsing.py`, which name what is wrong (`ImmichInvalidResponseError`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .models import Asset
from .parsing import arr, aware, bad, obj, opt_bool, opt_date, opt_str, req_str, to_datetime


def _visibility(body: Mapping[str, Any]) -> str:
    value = opt_str(body, "visibility")
    if value is not None:
        return value
    return "archive" if opt_bool(body, "isArchived", default=False) else "timeline"


def parse_asset(data: Any) -> Asset:
    """`AssetResponseDto` (with or without `exifInfo`).

    The usual shape (every field of its type, `...Z` dates) is read in one pass; anything
    else takes the field-by-field checks, which name what is wrong.
    """
    if type(data) is dict:
        get = data.get
        exif = get("exifInfo")
        asset_id, owner, name, path = (
            get("id"),
            get("ownerId"),
            get("originalFileName"),
            get("originalPath"),
        )
        created, updated = get("fileCreatedAt"), get("updatedAt")
        visibility, trashed, duplicate = get("visibility"), get("isTrashed"), get("duplicateId")
        original = zone = None
        if type(exif) is dict:
            original, zone = exif.get("dateTimeOriginal"), exif.get("timeZone")
        if (
            type(asset_id) is str
            and type(owner) is str
            and type(name) is str
            and type(path) is str
            and type(created) is str
            and created.endswith("Z")
            and (original is None or (type(original) is str and original.endswith("Z")))
            and (exif is None or type(exif) is dict)
            and type(zone) in _OPT_STR
            and type(duplicate) in _OPT_STR
            and type(updated) is str
            and type(visibility) is str
            and type(trashed) is bool
        ):
            with contextlib.suppress(ValueError):  # e.g. a year past 9999: the checked path
                return Asset(
                    asset_id,
                    owner,
                    name,
                    path,
                    file_created_at=datetime.fromisoformat(created),
                    date_time_original=None
                    if original is None
                    else datetime.fromisoformat(original),
                    time_zone=zone,
                    duplicate_id=duplicate,
                    visibility=visibility,
                    is_trashed=trashed,
                    updated_at=updated,
                )
    return _parse_asset_checked(data)


_OPT_STR = frozenset({str, type(None)})


def _parse_asset_checked(data: Any) -> Asset:
    body = obj(data, "asset")
    exif_raw = body.get("exifInfo")
    exif = obj(exif_raw, "exifInfo") if exif_raw is not None else {}
    return Asset(
        id=req_str(body, "id"),
        owner_id=req_str(body, "ownerId"),
        original_file_name=req_str(body, "originalFileName"),
        original_path=req_str(body, "originalPath"),
        file_created_at=aware(to_datetime(req_str(body, "fileCreatedAt"), "fileCreatedAt")),
        date_time_original=opt_date(exif, "dateTimeOriginal"),
        time_zone=opt_str(exif, "timeZone"),
        duplicate_id=opt_str(body, "duplicateId"),
        visibility=_visibility(body),
        is_trashed=opt_bool(body, "isTrashed", default=False),
        updated_at=opt_str(body, "updatedAt") or "",
    )


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of `SearchResponseDto.assets`."""

    items: list[Any]  # raw item objects
    next_page: str | None
    next_cursor: str | None


def parse_search_page(data: Any) -> SearchPage:
    """`SearchResponseDto` -> the asset items and the paging tokens."""
    assets = obj(obj(data, "search response").get("assets"), "search assets")
    items = arr(assets.get("items"), "search items")
    next_page = assets.get("nextPage")
    next_cursor = assets.get("nextCursor")
    if next_page is not None and not isinstance(next_page, (str, int)):
        raise bad("nextPage is not a string")
    if next_cursor is not None and not isinstance(next_cursor, str):
        raise bad("nextCursor is not a string")
    return SearchPage(
        items=items,
        next_page=None if next_page is None else str(next_page),
        next_cursor=next_cursor or None,
    )
