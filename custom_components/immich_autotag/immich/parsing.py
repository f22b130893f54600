"""Defensive parsing of Immich JSON into slim records.

Every shape check lives here (asset records and search pages use them in
`asset_parsing.py`): anything unexpected (wrong type, missing field, bad date) raises
`ImmichInvalidResponseError`, never a bare KeyError/TypeError/ValueError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .errors import ImmichInvalidResponseError
from .models import (
    Album,
    AlbumUser,
    ApiKeyInfo,
    BulkIdResult,
    ServerVersion,
    Tag,
    User,
)


def bad(what: str) -> ImmichInvalidResponseError:
    """The error of an answer that is not what the API documents."""
    return ImmichInvalidResponseError(f"unexpected response: {what}")


def obj(value: Any, what: str = "object") -> Mapping[str, Any]:
    """`value` as a JSON object."""
    if type(value) is not dict and not isinstance(value, Mapping):  # dict: the fast check
        raise bad(f"{what} is not an object")
    return value


def arr(value: Any, what: str = "array") -> list[Any]:
    """`value` as a JSON array."""
    if not isinstance(value, list):
        raise bad(f"{what} is not an array")
    return value


def req_str(data: Mapping[str, Any], key: str) -> str:
    """A required string field."""
    value = data.get(key)
    if not isinstance(value, str):
        raise bad(f"field {key!r} missing or not a string")
    return value


def opt_str(data: Mapping[str, Any], key: str) -> str | None:
    """An optional (or nullable) string field."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad(f"field {key!r} is not a string")
    return value


def req_int(data: Mapping[str, Any], key: str) -> int:
    """A required integer field (booleans rejected)."""
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad(f"field {key!r} missing or not an integer")
    return value


def opt_bool(data: Mapping[str, Any], key: str, default: bool) -> bool:  # noqa: FBT001
    """An optional boolean field."""
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad(f"field {key!r} is not a boolean")
    return value


FIRST_INSTANT = datetime.min.replace(tzinfo=UTC)
LAST_INSTANT = datetime.max.replace(tzinfo=UTC)
# Years Python has no datetime for, as JavaScript writes them (Immich keeps what EXIF says):
# `+010000-…` after 9999, `0000-…` and `-000001-…` before year 1.
_OUT_OF_RANGE = re.compile(r"^(?:([+-])\d{6}|0000)-\d{2}-\d{2}T")


def to_datetime(value: str, key: str) -> datetime:
    """ISO-8601 -> datetime (as given; `Z` accepted).

    Years Python cannot hold (`+010000-…`, `0000-…`, `-000001-…`, which Immich sends for such
    EXIF dates) become the first or last representable instant: they keep their order against
    every other date, and the engine reports them as unusable instead of failing the run.
    """
    try:
        return datetime.fromisoformat(value)
    except ValueError as err:
        outside = _OUT_OF_RANGE.match(value)
        if outside is not None:
            return LAST_INSTANT if outside.group(1) == "+" else FIRST_INSTANT
        raise bad(f"field {key!r} is not an ISO date: {value[:40]!r}") from err


def aware(value: datetime) -> datetime:
    """An aware UTC datetime (naive values are taken as UTC).

    An instant beyond the range in UTC (0001-01-01T00:00+01:00) is clamped like `to_datetime`.
    """
    if value.tzinfo is UTC:  # the usual `...Z`
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return FIRST_INSTANT if value.year == 1 else LAST_INSTANT


def opt_date(data: Mapping[str, Any], key: str) -> datetime | None:
    """An optional date field, timezone-aware (None when absent)."""
    text = opt_str(data, key)
    return None if text is None else aware(to_datetime(text, key))


# --- server / users ----------------------------------------------------------------------
def parse_server_version(data: Any) -> ServerVersion:
    """`ServerVersionResponseDto`."""
    body = obj(data, "server version")
    return ServerVersion(req_int(body, "major"), req_int(body, "minor"), req_int(body, "patch"))


def parse_user(data: Any) -> User:
    """`UserResponseDto` / `UserAdminResponseDto`."""
    body = obj(data, "user")
    return User(id=req_str(body, "id"), email=req_str(body, "email"), name=req_str(body, "name"))


def parse_users(data: Any) -> list[User]:
    """`UserResponseDto[]`."""
    return [parse_user(item) for item in arr(data, "users")]


def parse_api_key(data: Any) -> ApiKeyInfo:
    """`ApiKeyResponseDto`."""
    body = obj(data, "api key")
    perms = arr(body.get("permissions"), "permissions")
    if not all(isinstance(p, str) for p in perms):
        raise bad("permissions are not strings")
    return ApiKeyInfo(
        id=req_str(body, "id"), name=req_str(body, "name"), permissions=frozenset(perms)
    )


# --- raw search items --------------------------------------------------------------------
VISIBLE = frozenset({"timeline", "archive"})  # what the engine works on


def item_id(item: Any) -> str:
    """The id of one raw search item (fast path)."""
    if type(item) is dict or isinstance(item, Mapping):
        value = item.get("id")
        if isinstance(value, str):
            return value
    raise bad("search item without a string id")


def item_visible(item: Any) -> bool:
    """False for hidden/locked (live-photo halves) or trashed raw items."""
    if type(item) is not dict and not isinstance(item, Mapping):
        raise bad("search item is not an object")
    if item.get("isTrashed") is True:
        return False
    visibility = item.get("visibility")
    return visibility is None or visibility in VISIBLE


# --- tags / albums / bulk ----------------------------------------------------------------
def parse_tag(data: Any) -> Tag:
    """`TagResponseDto`."""
    body = obj(data, "tag")
    return Tag(
        id=req_str(body, "id"),
        name=req_str(body, "name"),
        value=req_str(body, "value"),
        created_at=opt_str(body, "createdAt") or "",
    )


def parse_tags(data: Any) -> list[Tag]:
    """`TagResponseDto[]`."""
    return [parse_tag(item) for item in arr(data, "tags")]


def _album_users(body: Mapping[str, Any]) -> tuple[str | None, tuple[AlbumUser, ...]]:
    owner: str | None = None
    members: list[AlbumUser] = []
    for raw in arr(body.get("albumUsers", []), "albumUsers"):
        entry = obj(raw, "album user")
        user = obj(entry.get("user"), "album user.user")
        role = req_str(entry, "role")
        if role == "owner":
            owner = req_str(user, "id")
        else:
            members.append(AlbumUser(req_str(user, "id"), req_str(user, "email"), role))
    return owner, tuple(members)


def parse_album(data: Any) -> Album:
    """`AlbumResponseDto`, v2 (`owner`/`ownerId`, `assets[]`) or v3 (owner in albumUsers)."""
    body = obj(data, "album")
    owner_id, users = _album_users(body)
    if owner_id is None:
        owner_id = opt_str(body, "ownerId")
    if owner_id is None and body.get("owner") is not None:
        owner_id = req_str(obj(body.get("owner"), "album owner"), "id")
    if owner_id is None:
        raise bad("album without an owner")
    users = tuple(u for u in users if u.user_id != owner_id)
    raw_assets = body.get("assets")
    asset_ids: tuple[str, ...] | None = None
    if raw_assets is not None:
        asset_ids = tuple(
            item_id(item) for item in arr(raw_assets, "album assets") if item_visible(item)
        )
    return Album(
        id=req_str(body, "id"),
        name=req_str(body, "albumName"),
        owner_id=owner_id,
        asset_count=req_int(body, "assetCount"),
        updated_at=req_str(body, "updatedAt"),
        created_at=req_str(body, "createdAt"),
        users=users,
        asset_ids=asset_ids,
        description=opt_str(body, "description") or "",
    )


def parse_albums(data: Any) -> list[Album]:
    """`AlbumResponseDto[]`."""
    return [parse_album(item) for item in arr(data, "albums")]


def parse_bulk_ids(data: Any) -> list[BulkIdResult]:
    """`BulkIdResponseDto[]`."""
    out: list[BulkIdResult] = []
    for raw in arr(data, "bulk id results"):
        body = obj(raw, "bulk id result")
        success = body.get("success")
        if not isinstance(success, bool):
            raise bad("bulk id result without a boolean success")
        out.append(BulkIdResult(req_str(body, "id"), success, opt_str(body, "error")))
    return out


def parse_count(data: Any) -> int:
    """`{count}` of `PUT /tags/assets`."""
    return req_int(obj(data, "count response"), "count")
