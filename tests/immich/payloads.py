"""Response payloads shaped exactly like the Immich OpenAPI schemas (3.0.3 unless noted)."""

from __future__ import annotations

from typing import Any

OWNER = "8a1c2f3e-0000-4000-8000-000000000001"
FRIEND = "8a1c2f3e-0000-4000-8000-000000000002"
ALBUM = "a1b00000-0000-4000-8000-00000000000a"
TAG = "7a900000-0000-4000-8000-00000000000b"


def aid(n: int) -> str:
    """A valid asset uuid number n."""
    return f"00000000-0000-4000-8000-{n:012d}"


def user(uid: str = OWNER, email: str = "me@example.com", name: str = "Me") -> dict[str, Any]:
    return {
        "id": uid,
        "email": email,
        "name": name,
        "avatarColor": "primary",
        "profileImagePath": "",
        "profileChangedAt": "2024-01-01T00:00:00.000Z",
    }


def admin_user(*, v32: bool = False) -> dict[str, Any]:
    extra = {"clusterGroupId": "c1000000-0000-4000-8000-000000000001"} if v32 else {}
    return {
        **user(),
        **extra,
        "isAdmin": True,
        "storageLabel": "admin",
        "quotaSizeInBytes": None,
        "quotaUsageInBytes": 0,
        "status": "active",
        "createdAt": "2024-01-01T00:00:00.000Z",
        "updatedAt": "2024-01-01T00:00:00.000Z",
        "deletedAt": None,
        "oauthId": "",
        "shouldChangePassword": False,
        "license": None,
    }


def api_key(perms: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": "4e100000-0000-4000-8000-000000000001",
        "name": "autotag",
        "permissions": perms if perms is not None else ["all"],
        "createdAt": "2024-01-01T00:00:00.000Z",
        "updatedAt": "2024-01-01T00:00:00.000Z",
    }


def version(major: int, minor: int, patch: int) -> dict[str, Any]:
    return {"major": major, "minor": minor, "patch": patch, "prerelease": None}


def asset(
    n: int,
    *,
    owner: str = OWNER,
    visibility: str = "timeline",
    exif: bool = True,
    trashed: bool = False,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": aid(n),
        "ownerId": owner,
        "type": "IMAGE",
        "originalFileName": f"IMG_{n:04d}.jpg",
        "originalPath": f"/photos/2019/IMG_{n:04d}.jpg",
        "originalMimeType": "image/jpeg",
        "checksum": "abc=",
        "fileCreatedAt": "2019-05-12T08:30:00.000Z",
        "fileModifiedAt": "2019-05-12T08:30:00.000Z",
        "localDateTime": "2019-05-12T10:30:00.000Z",
        "createdAt": "2024-01-01T00:00:00.000Z",
        "updatedAt": "2024-01-01T00:00:00.000Z",
        "visibility": visibility,
        "isFavorite": False,
        "isArchived": visibility == "archive",
        "isTrashed": trashed,
        "isOffline": False,
        "isEdited": False,
        "hasMetadata": True,
        "duplicateId": None,
        "livePhotoVideoId": None,
        "thumbhash": None,
        "width": 4000,
        "height": 3000,
        "duration": 0,
        "people": [],
    }
    if exif:
        item["exifInfo"] = {
            "dateTimeOriginal": "2019-05-12T08:30:00.000Z",
            "timeZone": "Europe/Madrid",
            "make": "Canon",
        }
    return item


def search(
    items: list[dict[str, Any]],
    next_page: str | None = None,
    cursor: str | None = None,
    v32: bool = False,
) -> dict[str, Any]:
    assets: dict[str, Any] = {
        "total": len(items),
        "count": len(items),
        "items": items,
        "facets": [],
        "nextPage": next_page,
    }
    if v32:
        assets["nextCursor"] = cursor
    return {"albums": {"total": 0, "count": 0, "items": [], "facets": []}, "assets": assets}


def tag(tid: str = TAG, value: str = "Places/France", parent: str | None = None) -> dict[str, Any]:
    """`TagResponseDto`: `parentId` and `color` are left out when unset (never null)."""
    body = {
        "id": tid,
        "name": value.rsplit("/", 1)[-1],
        "value": value,
        "createdAt": "2024-01-01T00:00:00.000Z",
        "updatedAt": "2024-01-01T00:00:00.000Z",
    }
    return body if parent is None else {**body, "parentId": parent}


def album_v3(aid_: str = ALBUM, name: str = "Trip", members: bool = True) -> dict[str, Any]:
    users = [{"user": user(), "role": "owner"}]
    if members:
        users.append({"user": user(FRIEND, "friend@example.com", "Friend"), "role": "viewer"})
    return {
        "id": aid_,
        "albumName": name,
        "description": "",
        "albumThumbnailAssetId": None,
        "albumUsers": users,
        "assetCount": 3,
        "shared": members,
        "hasSharedLink": False,
        "isActivityEnabled": True,
        "order": "desc",
        "startDate": "2019-05-12T08:30:00.000Z",
        "endDate": "2019-05-13T08:30:00.000Z",
        "createdAt": "2024-01-01T00:00:00.000Z",
        "updatedAt": "2024-02-01T00:00:00.000Z",
    }


def album_v2(
    aid_: str = ALBUM, name: str = "Trip", assets: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body = album_v3(aid_, name, members=False)
    body["albumUsers"] = [{"user": user(FRIEND, "friend@example.com", "Friend"), "role": "editor"}]
    body["owner"] = user()
    body["ownerId"] = OWNER
    body["assets"] = assets if assets is not None else []
    return body


def bulk(ids: list[str], error: str | None = None) -> list[dict[str, Any]]:
    if error is None:
        return [{"id": i, "success": True} for i in ids]
    return [{"id": i, "success": False, "error": error} for i in ids]
