"""JSON response shapes of the simulator (camelCase, required fields of the spec present)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from .dates import iso
from .library import SimLibrary
from .records import SimAlbum, SimAsset, SimTag, SimUser

_EPOCH_ISO = "2025-01-01T00:00:00.000Z"


def user_json(user: SimUser) -> dict[str, Any]:
    """`UserResponseDto`."""
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "avatarColor": "primary",
        "profileImagePath": "",
        "profileChangedAt": _EPOCH_ISO,
    }


def user_admin_json(user: SimUser, version: tuple[int, int, int]) -> dict[str, Any]:
    """`UserAdminResponseDto`."""
    out = user_json(user) | {
        "isAdmin": True,
        "storageLabel": None,
        "quotaSizeInBytes": None,
        "quotaUsageInBytes": 0,
        "status": "active",
        "createdAt": _EPOCH_ISO,
        "updatedAt": _EPOCH_ISO,
        "deletedAt": None,
        "oauthId": "",
        "shouldChangePassword": False,
        "license": None,
    }
    if version >= (3, 2, 0):  # NOT NULL since 3.2: every user is in a cluster group
        digest = hashlib.sha256(f"cluster-group {user.id}".encode()).digest()[:16]
        out["clusterGroupId"] = str(uuid.UUID(bytes=digest, version=4))
    return out


def asset_json(
    asset: SimAsset,
    version: tuple[int, int, int],
    *,
    with_exif: bool = False,
    tags: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`AssetResponseDto` (v2: string duration + device ids)."""
    out: dict[str, Any] = {
        "id": asset.id,
        "ownerId": asset.owner_id,
        "type": "IMAGE",
        "originalFileName": asset.file_name,
        "originalPath": asset.path,
        "originalMimeType": "image/jpeg",
        "checksum": "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "fileCreatedAt": iso(asset.file_created_ms),
        "fileModifiedAt": iso(asset.file_created_ms),
        "localDateTime": iso(asset.local_ms),
        "createdAt": iso(asset.created_ms),
        "updatedAt": iso(asset.updated_ms),
        "visibility": asset.visibility,
        "isFavorite": False,
        "isArchived": asset.visibility == "archive",
        "isTrashed": asset.trashed,
        "isOffline": False,
        "isEdited": False,
        "hasMetadata": True,
        "duplicateId": asset.duplicate_id,
        "thumbhash": None,
        "width": 4000,
        "height": 3000,
        "duration": None,
        "livePhotoVideoId": None,
    }
    if version < (3, 0, 0):
        out["duration"] = "0:00:00.00000"
        out["deviceAssetId"] = asset.file_name
        out["deviceId"] = "sim"
    if with_exif:
        out["exifInfo"] = {
            "dateTimeOriginal": None if asset.exif_ms is None else iso(asset.exif_ms),
            "timeZone": asset.time_zone,
            "make": None,
            "model": None,
            "lensModel": None,
            "city": None,
            "state": None,
            "country": None,
            "description": "",
            "rating": None,
            "fileSizeInByte": 1_000_000,
        }
    if tags is not None:
        out["tags"] = tags
    return out


def tag_json(tag: SimTag) -> dict[str, Any]:
    """`TagResponseDto`."""
    out: dict[str, Any] = {
        "id": tag.id,
        "name": tag.name,
        "value": tag.value,
        "createdAt": iso(tag.created_ms),
        "updatedAt": iso(tag.updated_ms),
    }
    if tag.parent_id is not None:
        out["parentId"] = tag.parent_id
    if tag.color is not None:
        out["color"] = tag.color
    return out


def visible_count(lib: SimLibrary, album: SimAlbum) -> int:
    """`assetCount`: excludes trashed, hidden and locked assets."""
    count = 0
    for asset_id in album.assets:
        asset = lib.assets.get(asset_id)
        if asset is not None and not asset.trashed and asset.visibility in {"timeline", "archive"}:
            count += 1
    return count


def album_json(
    lib: SimLibrary,
    album: SimAlbum,
    version: tuple[int, int, int],
    *,
    with_assets: bool = False,
) -> dict[str, Any]:
    """`AlbumResponseDto` (v3 shape; v2 adds owner, ownerId and assets)."""
    owner = lib.users[album.owner_id]
    members = [lib.assets[a] for a in album.assets if a in lib.assets]
    dates = [a.file_created_ms for a in members if not a.trashed]
    album_users = [{"user": user_json(owner), "role": "owner"}] if version >= (3, 0, 0) else []
    album_users += [
        {"user": user_json(lib.users[uid]), "role": role} for uid, role in album.users.items()
    ]
    out: dict[str, Any] = {
        "id": album.id,
        "albumName": album.name,
        "description": album.description,
        "albumThumbnailAssetId": album.thumbnail_id,
        "albumUsers": album_users,
        "assetCount": visible_count(lib, album),
        "shared": bool(album.users),
        "hasSharedLink": False,
        "isActivityEnabled": True,
        "order": "desc",
        "createdAt": iso(album.created_ms),
        "updatedAt": iso(album.updated_ms),
    }
    if dates:
        out["startDate"] = iso(min(dates))
        out["endDate"] = iso(max(dates))
        out["lastModifiedAssetTimestamp"] = iso(album.updated_ms)
    if version < (3, 0, 0):
        out["ownerId"] = owner.id
        out["owner"] = user_json(owner)
        out["assets"] = [asset_json(a, version) for a in members] if with_assets else []
    return out
