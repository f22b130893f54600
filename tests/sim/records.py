"""The simulator's records: users, API keys, assets, tags and albums.

Compact for large libraries: one `__slots__` record per asset, dates as integer epoch
milliseconds (`dates.py`), no per-asset JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .dates import EPOCH, iso


class SimUser:
    """A user."""

    __slots__ = ("email", "id", "name")

    def __init__(self, user_id: str, email: str, name: str) -> None:
        self.id, self.email, self.name = user_id, email, name

    def __repr__(self) -> str:
        return f"SimUser({self.email!r})"


@dataclass(slots=True)
class SimApiKey:
    """An API key: secret -> user + permissions."""

    id: str
    secret: str
    user_id: str
    name: str
    permissions: frozenset[str]
    revoked: bool = False


class SimAsset:
    """One asset; dates are epoch ms (`local_ms` is the wall clock encoded as if UTC)."""

    __slots__ = (
        "created_ms",
        "duplicate_id",
        "exif_ms",
        "file_created_ms",
        "file_name",
        "id",
        "local_ms",
        "owner_id",
        "path",
        "pending",
        "time_zone",
        "trashed",
        "updated_ms",
        "visibility",
    )

    def __init__(  # noqa: PLR0917
        self,
        asset_id: str,
        owner_id: str,
        file_name: str,
        path: str,
        file_created_ms: int,
        local_ms: int,
        exif_ms: int | None,
        time_zone: str | None,
        duplicate_id: str | None,
        visibility: str,
        trashed: bool,
        created_ms: int,
    ) -> None:
        self.id = asset_id
        self.owner_id = owner_id
        self.file_name = file_name
        self.path = path
        self.file_created_ms = file_created_ms
        self.local_ms = local_ms
        self.exif_ms = exif_ms
        self.time_zone = time_zone
        self.duplicate_id = duplicate_id
        self.visibility = visibility
        self.trashed = trashed
        self.created_ms = created_ms
        self.updated_ms = created_ms
        self.pending: tuple[int, int] | None = None  # (fileCreated, local) awaiting a metadata job

    @property
    def file_created_at(self) -> datetime:
        """`fileCreatedAt` (aware UTC)."""
        return EPOCH + timedelta(milliseconds=self.file_created_ms)

    @property
    def local_date_time(self) -> datetime:
        """`localDateTime` as a naive wall-clock time."""
        return (EPOCH + timedelta(milliseconds=self.local_ms)).replace(tzinfo=None)

    @property
    def date_time_original(self) -> datetime | None:
        """`exifInfo.dateTimeOriginal` (aware UTC) or None without exif."""
        return None if self.exif_ms is None else EPOCH + timedelta(milliseconds=self.exif_ms)

    def __repr__(self) -> str:
        return f"SimAsset({self.file_name!r}, {iso(self.file_created_ms)})"


@dataclass(slots=True)
class SimTag:
    """A tag of one user; `value` is the full path."""

    id: str
    owner_id: str
    value: str
    parent_id: str | None
    created_ms: int
    updated_ms: int
    color: str | None = None
    assets: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        """The leaf name."""
        return self.value.rsplit("/", 1)[-1]


@dataclass(slots=True)
class SimAlbum:
    """An album; `users` maps user id -> role (editor|viewer), the owner is separate."""

    id: str
    owner_id: str
    name: str
    created_ms: int
    updated_ms: int
    description: str = ""
    users: dict[str, str] = field(default_factory=dict)
    assets: dict[str, None] = field(default_factory=dict)  # ordered set
    thumbnail_id: str | None = None
