"""Slim, immutable records parsed from Immich JSON: only the fields the engine uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final


class ApiMode(StrEnum):
    """Which family of calls a server needs."""

    V2 = "v2"  # albums inline assets, ?shared=, search defaults to timeline only
    V3_0 = "v3.0"  # v3.0 / v3.1: album members by search, flat search fields and page
    V3_2 = "v3.2"  # filter / cursor search path


# The newest minor tested of each Immich major the client knows (v2.0 is the oldest).
NEWEST_TESTED: Final = {2: 7, 3: 2}


class VersionSupport(StrEnum):
    """How the client stands to a server version."""

    TESTED = "tested"  # v2.0 - v2.7, v3.0 - v3.2
    NEWER = "newer"  # a newer minor of a known major: runs with that major's newest calls
    UNSUPPORTED = "unsupported"  # older than v2.0, or a major the client does not know


@dataclass(frozen=True, slots=True)
class ServerVersion:
    """`GET /server/version`."""

    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"v{self.major}.{self.minor}.{self.patch}"

    @property
    def support(self) -> VersionSupport:
        """Tested, a newer minor of a known major, or unsupported."""
        newest = NEWEST_TESTED.get(self.major)
        if newest is None:
            return VersionSupport.UNSUPPORTED
        return VersionSupport.TESTED if self.minor <= newest else VersionSupport.NEWER

    @property
    def tested_up_to(self) -> str:
        """The newest tested `vX.Y` of this version's major (of the newest major if unknown)."""
        major = self.major if self.major in NEWEST_TESTED else max(NEWEST_TESTED)
        return f"v{major}.{NEWEST_TESTED[major]}"

    @property
    def mode(self) -> ApiMode:
        """The call family to use for this version."""
        if self.major < 3:  # noqa: PLR2004
            return ApiMode.V2
        if self.minor < 2:  # noqa: PLR2004
            return ApiMode.V3_0
        return ApiMode.V3_2


@dataclass(frozen=True, slots=True)
class User:
    """A user (`UserResponseDto` / `UserAdminResponseDto`)."""

    id: str
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """`GET /api-keys/me`."""

    id: str
    name: str
    permissions: frozenset[str]

    def missing(self, required: frozenset[str]) -> frozenset[str]:
        """Permissions of `required` this key lacks (`all` grants everything)."""
        if "all" in self.permissions:
            return frozenset()
        return required - self.permissions


@dataclass(frozen=True, slots=True)
class Asset:
    """An asset from `POST /search/metadata` (with exif)."""

    id: str
    owner_id: str
    original_file_name: str
    original_path: str
    file_created_at: datetime  # aware, UTC
    date_time_original: datetime | None  # exifInfo.dateTimeOriginal, aware; None if no exif
    time_zone: str | None  # exifInfo.timeZone, e.g. "Europe/Madrid" or "UTC+2"
    duplicate_id: str | None
    visibility: str  # timeline | archive | hidden | locked
    is_trashed: bool
    updated_at: str = ""  # `updatedAt` as sent (server clock), compared as text

    @property
    def capture_instant(self) -> datetime:
        """The capture instant Immich shows: exif dateTimeOriginal, else fileCreatedAt."""
        return self.date_time_original or self.file_created_at


@dataclass(frozen=True, slots=True)
class Tag:
    """`TagResponseDto`: `value` is the full path (`a/b/c`), `name` the leaf."""

    id: str
    name: str
    value: str
    created_at: str = ""  # server clock, ISO text (orders run leases)


@dataclass(frozen=True, slots=True)
class AlbumUser:
    """A member of an album (not the owner)."""

    user_id: str
    email: str
    role: str  # editor | viewer


@dataclass(frozen=True, slots=True)
class Album:
    """`AlbumResponseDto` (owner resolved for v2 and v3 shapes)."""

    id: str
    name: str
    owner_id: str
    asset_count: int
    updated_at: str  # opaque, compared for the membership cache
    created_at: str
    users: tuple[AlbumUser, ...] = ()
    asset_ids: tuple[str, ...] | None = field(default=None, compare=False)  # v2 inline only
    description: str = ""  # `CREATED_BY` marks the albums the tool created


@dataclass(frozen=True, slots=True)
class BulkIdResult:
    """`BulkIdResponseDto`: per-id outcome of a bulk write."""

    id: str
    success: bool
    error: str | None = None  # duplicate | no_permission | not_found | unknown | validation


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What `ImmichClient.connect` learns (at set-up and at the start of every run)."""

    version: ServerVersion
    user: User
    api_key: ApiKeyInfo
