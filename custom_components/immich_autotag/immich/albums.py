"""The client's album calls: listings, creation never blindly sent twice, members, sharing.

`POST /albums` is the one write that is not idempotent: `create_album` never sends it again
without first looking for the album on the server. A retry answered "already done" (a member
already added, a member already removed) has reached its goal and is no error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from typing import Any

from . import parsing
from .client_base import ClientBase
from .errors import (
    ImmichBadRequestError,
    ImmichConnectionError,
    ImmichRateLimitedError,
    ImmichServerError,
    ImmichTimeoutError,
)
from .models import Album, ApiMode, BulkIdResult
from .search import CHUNK_SIZE

# "Already done" answers of writes whose earlier attempt may have been applied:
_NOT_SHARED = "Album not shared with user"  # DELETE /albums/{id}/user/{userId}
_ALREADY_ADDED = "User already added"  # PUT /albums/{id}/users on servers that refuse twice
PARSE_IN_THREAD = 200  # albums parsed off the event loop above this many
LISTING = CHUNK_SIZE  # a listing of unknown length gets the timeout of a full page


async def _parse_albums(data: Any) -> list[Album]:
    """`parse_albums`, in a worker thread for long lists (thousands of albums)."""
    if isinstance(data, list) and len(data) > PARSE_IN_THREAD:
        return await asyncio.to_thread(parsing.parse_albums, data)
    return parsing.parse_albums(data)


class AlbumCalls(ClientBase):
    """Albums: what `ImmichClient` sends about them (see the module docstring)."""

    async def list_albums(self) -> list[Album]:
        """Owned and shared-with-me albums (v2: `shared=false` + `shared=true`, merged)."""
        if await self._mode() is not ApiMode.V2:
            return await _parse_albums(await self._http.request("GET", "/albums", items=LISTING))
        merged: dict[str, Album] = {}
        for shared in ("false", "true"):
            data = await self._http.request(
                "GET", "/albums", params={"shared": shared}, items=LISTING
            )
            for album in await _parse_albums(data):
                merged.setdefault(album.id, album)
        return list(merged.values())

    async def get_album(self, album_id: str) -> Album:
        """`GET /albums/{id}`: the album as it is now (`assetCount`; v2 also its assets)."""
        return parsing.parse_album(
            await self._http.request("GET", "/albums/{id}", path={"id": album_id})
        )

    async def create_album(
        self,
        name: str,
        asset_ids: Sequence[str] = (),
        users: Sequence[tuple[str, str]] = (),
        *,
        known_ids: Collection[str] = (),
        description: str = "",
    ) -> Album:
        """`POST /albums` (first chunk of assets inline, rest via add); users=(id, role).

        It is never blindly sent twice: when the answer is lost (connection error, 5xx, 503)
        the album may exist all the same. After a short wait (the lost request may still be
        on its way), an album of that name owned by the key's user that is not in
        `known_ids` (the albums the caller knew before) is taken as the one created and the
        assets are added to it; only when there is none is it sent again, and the same holds
        for every resend (at most the retry policy's attempts).
        """
        ids = list(dict.fromkeys(asset_ids))
        body: dict[str, Any] = {"albumName": name}
        if description:
            body["description"] = description
        if ids:
            body["assetIds"] = ids[:CHUNK_SIZE]
        if users:
            body["albumUsers"] = [{"userId": uid, "role": role} for uid, role in users]
        album, adopted = await self._create_once(name, body, known_ids)
        if adopted and ids:  # its answer was lost: make sure it holds what the body carried
            await self.add_assets_to_album(album.id, ids[:CHUNK_SIZE])
        if len(ids) > CHUNK_SIZE:
            await self.add_assets_to_album(album.id, ids[CHUNK_SIZE:])
        return album

    async def _create_once(
        self, name: str, body: dict[str, Any], known_ids: Collection[str]
    ) -> tuple[Album, bool]:
        """Send `POST /albums` until answered; (album, True) when a lost send was applied.

        Each failed send is followed by a look for the album (a listing, which rides out an
        outage like any read); at most the policy's error attempts are sent, and no answer
        is waited for longer than its stall budget in all. Patience spent on 429s ends it.
        """
        http = self._http
        policy, timing = http.policy, http.timing
        attempt = stalls = 0
        first_failure: float | None = None
        items = len(body.get("assetIds", ()))
        while True:
            try:
                data = await http.request(
                    "POST", "/albums", body=body, idempotent=False, items=items
                )
            except ImmichRateLimitedError:
                raise  # the server kept asking to wait: the transport's patience is spent
            except (ImmichConnectionError, ImmichServerError) as err:
                attempt += 1
                now = timing.monotonic()
                first_failure = now if first_failure is None else first_failure
                if isinstance(err, ImmichTimeoutError):  # a stall: bounded by time
                    stalls += 1
                    if now - first_failure >= policy.max_stall:
                        raise
                elif attempt - stalls >= policy.error_attempts:
                    raise
                delay = policy.delay(attempt - 1, timing.rng)
                await timing.sleep(delay)
                adopted = await self._created_anyway(name, known_ids)
                if adopted is not None:
                    return adopted, True
                http.stats.retries += 1  # sent again: counted like the transport's retries
                http.stats.throttled_seconds += delay
                continue
            return parsing.parse_album(data), False

    async def _created_anyway(self, name: str, known_ids: Collection[str]) -> Album | None:
        """An album of that name the key user owns that the caller did not know, if any."""
        if self._me is None:
            self._me = (await self.get_my_user()).id
        found = [
            a
            for a in await self.list_albums()
            if a.name == name and a.owner_id == self._me and a.id not in known_ids
        ]
        return min(found, key=lambda a: (a.created_at, a.id)) if found else None

    async def add_assets_to_album(
        self, album_id: str, asset_ids: Sequence[str]
    ) -> list[BulkIdResult]:
        """`PUT /albums/{id}/assets {ids}` in chunks."""
        return await self._bulk_ids("PUT", "/albums/{id}/assets", album_id, asset_ids)

    async def remove_assets_from_album(
        self, album_id: str, asset_ids: Sequence[str]
    ) -> list[BulkIdResult]:
        """`DELETE /albums/{id}/assets {ids}` in chunks."""
        return await self._bulk_ids("DELETE", "/albums/{id}/assets", album_id, asset_ids)

    async def delete_album(self, album_id: str) -> None:
        """`DELETE /albums/{id}`."""
        await self._http.request("DELETE", "/albums/{id}", path={"id": album_id})

    async def add_album_users(self, album_id: str, users: Sequence[tuple[str, str]]) -> None:
        """`PUT /albums/{id}/users {albumUsers:[{userId, role}]}`."""
        if not users:
            return
        body = {"albumUsers": [{"userId": uid, "role": role} for uid, role in users]}
        try:
            data = await self._http.request(
                "PUT", "/albums/{id}/users", path={"id": album_id}, body=body
            )
        except ImmichBadRequestError as err:  # servers that refuse members twice: done
            if _ALREADY_ADDED not in str(err):
                raise
            return
        if data is not None:
            parsing.obj(data, "album")

    async def update_album_user(self, album_id: str, user_id: str, role: str) -> None:
        """`PUT /albums/{id}/user/{userId} {role}`."""
        path = {"id": album_id, "userId": user_id}
        await self._http.request(
            "PUT", "/albums/{id}/user/{userId}", path=path, body={"role": role}
        )

    async def remove_album_user(self, album_id: str, user_id: str) -> None:
        """`DELETE /albums/{id}/user/{userId}`.

        "Album not shared with user" means the goal is reached (the answer to an earlier
        attempt was lost, or someone removed them meanwhile), so it is no error.
        """
        path = {"id": album_id, "userId": user_id}
        try:
            await self._http.request("DELETE", "/albums/{id}/user/{userId}", path=path)
        except ImmichBadRequestError as err:
            if _NOT_SHARED not in str(err):
                raise
