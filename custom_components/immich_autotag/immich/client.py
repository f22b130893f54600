"""Typed async client for the Immich API. The only code that talks HTTP.

INTERFACE CONTRACT (filled in by the client issue): the engine, the config flow and the
simulator tests rely on these names and signatures. Do not rename; add freely.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import aiohttp

from .limiter import Limiter
from .models import (
    Album,
    ApiKeyInfo,
    ApiMode,
    Asset,
    BulkIdResult,
    DuplicateGroup,
    ServerInfo,
    ServerVersion,
    Tag,
    User,
)

CHUNK_SIZE = 1000  # ids per bulk request; also the search page size


@dataclass
class RequestStats:
    """Every request the client sent, for reports and diagnostics."""

    by_endpoint: dict[str, int] = field(default_factory=dict)  # "POST /search/metadata": n
    retries: int = 0
    throttled_seconds: float = 0.0
    writes: int = 0  # requests that change server state

    @property
    def total(self) -> int:
        """All requests sent (retries excluded)."""
        return sum(self.by_endpoint.values())


class ImmichClient:
    """One client per config entry / headless run; every request goes through `limiter`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        api_key: str,
        *,
        limiter: Limiter | None = None,
        verify_ssl: bool = True,
        timeout: float = 60.0,
    ) -> None:
        """`url` may be given with or without the trailing `/api`."""
        raise NotImplementedError

    # --- identity -----------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        """Base URL ending in `/api` (no trailing slash)."""
        raise NotImplementedError

    @property
    def web_url(self) -> str:
        """Base URL of the web UI (no `/api`), for quick links."""
        raise NotImplementedError

    @property
    def mode(self) -> ApiMode:
        """Call family; valid after `connect()` (or `set_version()`)."""
        raise NotImplementedError

    @property
    def stats(self) -> RequestStats:
        """Request counters."""
        raise NotImplementedError

    def set_version(self, version: ServerVersion) -> None:
        """Fix the server version without asking (raises ImmichUnsupportedVersionError)."""
        raise NotImplementedError

    async def connect(self) -> ServerInfo:
        """Version (once), `users/me`, `api-keys/me`. Raises on unsupported versions."""
        raise NotImplementedError

    # --- server / users -----------------------------------------------------------------
    async def get_server_version(self) -> ServerVersion:
        """`GET /server/version`."""
        raise NotImplementedError

    async def get_about_version(self) -> str:
        """`GET /server/about` -> version string."""
        raise NotImplementedError

    async def get_my_api_key(self) -> ApiKeyInfo:
        """`GET /api-keys/me`."""
        raise NotImplementedError

    async def get_my_user(self) -> User:
        """`GET /users/me`."""
        raise NotImplementedError

    async def list_users(self) -> list[User]:
        """`GET /users`."""
        raise NotImplementedError

    # --- assets -------------------------------------------------------------------------
    def iter_assets(
        self,
        *,
        with_exif: bool = True,
        updated_after: datetime | None = None,
        asset_ids: Sequence[str] | None = None,
    ) -> AsyncIterator[list[Asset]]:
        """Every non-trashed timeline/archive asset visible to the key, one page per item.

        v2 walks `timeline` then `archive`; v3.0 one walk (hidden dropped client-side);
        v3.2 the filter path with `trashedAt eq null`. Partner assets are included (the
        engine filters on owner). `asset_ids` restricts to those ids (id filter per id, or
        the v3.2 `id in` filter).
        """
        raise NotImplementedError

    async def search_asset_ids(
        self,
        *,
        tag_id: str | None = None,
        album_id: str | None = None,
        not_in_album: bool = False,
    ) -> list[str]:
        """All asset ids matching one tag (closure) or one album, paged (1000), ids only.

        Includes archive (and on v2 walks timeline and archive); excludes trashed.
        """
        raise NotImplementedError

    async def update_assets_date(self, asset_ids: Sequence[str], date_time_original: str) -> None:
        """`PUT /assets {ids, dateTimeOriginal}` in chunks of <= 1000."""
        raise NotImplementedError

    # --- tags ---------------------------------------------------------------------------
    async def list_tags(self) -> list[Tag]:
        """`GET /tags`."""
        raise NotImplementedError

    async def upsert_tags(self, paths: Iterable[str]) -> list[Tag]:
        """`PUT /tags {tags}`; returns the leaf tag of each path."""
        raise NotImplementedError

    async def tag_assets(self, tag_ids: Sequence[str], asset_ids: Sequence[str]) -> int:
        """`PUT /tags/assets` (cross product) in chunks of asset ids; returns new links."""
        raise NotImplementedError

    async def untag_assets(self, tag_id: str, asset_ids: Sequence[str]) -> list[BulkIdResult]:
        """`DELETE /tags/{id}/assets {ids}` in chunks."""
        raise NotImplementedError

    async def delete_tag(self, tag_id: str) -> None:
        """`DELETE /tags/{id}`."""
        raise NotImplementedError

    # --- albums -------------------------------------------------------------------------
    async def list_albums(self) -> list[Album]:
        """Owned and shared-with-me albums (v2: `shared=false` + `shared=true`, merged)."""
        raise NotImplementedError

    async def get_album_asset_ids(self, album: Album) -> list[str]:
        """Members of one album: v2 `GET /albums/{id}`; v3 paged search by album id."""
        raise NotImplementedError

    async def create_album(
        self,
        name: str,
        asset_ids: Sequence[str] = (),
        users: Sequence[tuple[str, str]] = (),
    ) -> Album:
        """`POST /albums` (first chunk of assets inline, rest via add); users=(id, role)."""
        raise NotImplementedError

    async def add_assets_to_album(
        self, album_id: str, asset_ids: Sequence[str]
    ) -> list[BulkIdResult]:
        """`PUT /albums/{id}/assets {ids}` in chunks."""
        raise NotImplementedError

    async def add_assets_to_albums(
        self, album_ids: Sequence[str], asset_ids: Sequence[str]
    ) -> bool:
        """`PUT /albums/assets` (every asset to every album) in chunks; False on error."""
        raise NotImplementedError

    async def remove_assets_from_album(
        self, album_id: str, asset_ids: Sequence[str]
    ) -> list[BulkIdResult]:
        """`DELETE /albums/{id}/assets {ids}` in chunks."""
        raise NotImplementedError

    async def delete_album(self, album_id: str) -> None:
        """`DELETE /albums/{id}`."""
        raise NotImplementedError

    async def add_album_users(self, album_id: str, users: Sequence[tuple[str, str]]) -> None:
        """`PUT /albums/{id}/users {albumUsers:[{userId, role}]}`."""
        raise NotImplementedError

    async def update_album_user(self, album_id: str, user_id: str, role: str) -> None:
        """`PUT /albums/{id}/user/{userId} {role}`."""
        raise NotImplementedError

    async def remove_album_user(self, album_id: str, user_id: str) -> None:
        """`DELETE /albums/{id}/user/{userId}`."""
        raise NotImplementedError

    # --- duplicates ---------------------------------------------------------------------
    async def list_duplicates(self) -> list[DuplicateGroup]:
        """`GET /duplicates`."""
        raise NotImplementedError
