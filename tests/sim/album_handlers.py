"""Album endpoints of the simulator (mixed into `Handlers`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .library import SimLibrary
from .records import SimAlbum, SimAsset
from .server import ApiError, json_response
from .shapes import album_json

if TYPE_CHECKING:
    from .server import Simulator


class AlbumRoutes:
    """`/albums` routes; needs `self.sim` and `self.lib`."""

    sim: Simulator
    lib: SimLibrary

    def album_response(self, album: SimAlbum, *, with_assets: bool = False) -> dict[str, Any]:
        """`AlbumResponseDto` for this server version."""
        return album_json(self.lib, album, self.sim.version, with_assets=with_assets)

    def _album_for(self, album_id: str, me: str, *, write: bool = False) -> SimAlbum:
        album = self.lib.albums.get(album_id)
        if album is None:
            raise ApiError(400, "Not found or no album.read access")
        role = "owner" if album.owner_id == me else album.users.get(me)
        if role is None or (write and role not in {"owner", "editor"}):
            raise ApiError(
                400,
                "Not found or no albumAsset.create access"
                if write
                else "Not found or no album.read access",
            )
        return album

    def _visible_asset(self, asset_id: str, me: str) -> SimAsset | None:
        asset = self.lib.assets.get(asset_id)
        return asset if asset is not None and asset.owner_id == me else None

    def _shareable(self, asset_id: str, me: str) -> bool:
        """Own assets, or assets already in an album shared with me."""
        asset = self.lib.assets.get(asset_id)
        if asset is None:
            return False
        if asset.owner_id == me:
            return True
        return any(
            asset_id in a.assets and (a.owner_id == me or me in a.users)
            for a in self.lib.albums.values()
        )

    async def get_albums(self, r: web.Request, p: dict[str, Any]) -> web.Response:
        me, query = r["me"], p["query"]
        albums = [a for a in self.lib.albums.values() if a.owner_id == me or me in a.users]
        if self.sim.version < (3, 0, 0):
            shared = query.get("shared")
            if shared == "true":
                albums = [a for a in albums if a.users]
            elif shared == "false":
                albums = [a for a in albums if a.owner_id == me and not a.users]
            else:
                albums = [a for a in albums if a.owner_id == me]
        else:
            if "isOwned" in query:
                owned = query["isOwned"] == "true"
                albums = [a for a in albums if (a.owner_id == me) == owned]
            if "isShared" in query:
                shared_flag = query["isShared"] == "true"
                albums = [a for a in albums if bool(a.users) == shared_flag]
            if "name" in query:
                albums = [a for a in albums if a.name == query["name"]]
            if "id" in query:
                albums = [a for a in albums if a.id == query["id"]]
        if "assetId" in query:
            albums = [a for a in albums if query["assetId"] in a.assets]
        r["items"] = len(albums)
        return json_response([self.album_response(a) for a in albums])

    async def get_album(self, r: web.Request, p: dict[str, Any]) -> web.Response:
        album = self._album_for(p["id"], r["me"])
        with_assets = p["query"].get("withoutAssets") != "true"
        r["items"] = len(album.assets) if with_assets and self.sim.version < (3, 0, 0) else 0
        return json_response(self.album_response(album, with_assets=with_assets))

    async def create_album(self, r: web.Request, p: dict[str, Any]) -> web.Response:
        me, body = r["me"], p["body"]
        owner = self.lib.users[me]
        assets = [i for i in body.get("assetIds") or [] if self._shareable(i, me)]
        users = []
        for entry in body.get("albumUsers") or []:
            user = self.lib.users.get(entry["userId"])
            if user is None:
                raise ApiError(400, "User not found")
            if user.id == me:
                raise ApiError(400, "Cannot share album with owner")
            users.append((user, entry.get("role", "editor")))
        album = self.lib.add_album(
            owner, body["albumName"], assets, users, body.get("description", "")
        )
        return json_response(self.album_response(album), 201)

    async def update_album(self, r: web.Request, p: dict[str, Any]) -> web.Response:
        album = self._album_for(p["id"], r["me"])
        if album.owner_id != r["me"]:
            raise ApiError(400, "Not found or no album.update access")
        body = p["body"]
        album.name = body.get("albumName", album.name)
        album.description = body.get("description", album.description)
        if "albumThumbnailAssetId" in body:
            album.thumbnail_id = body["albumThumbnailAssetId"]
        album.updated_ms = self.lib.tick()
        return json_response(self.album_response(album))

    async def delete_album(self, r: web.Request, p: dict[str, Any]) -> web.StreamResponse:
        album = self._album_for(p["id"], r["me"])
        if album.owner_id != r["me"]:
            raise ApiError(400, "Not found or no album.delete access")
        del self.lib.albums[album.id]
        self.lib.tick()
        return web.Response(status=204)

    async def add_album_assets(self, r: web.Request, p: dict[str, Any]) -> web.Response:
        me = r["me"]
        album = self._album_for(p["id"], me, write=True)
        results: list[dict[str, Any]] = []
        added = False
        for asset_id in p["body"]["ids"]:
            if asset_id in album.assets:
                results.append({"id": asset_id, "success": False, "error": "duplicate"})
            elif asset_id not in self.lib.assets:
                results.append({"id": asset_id, "success": False, "error": "not_found"})
            elif not self._shareable(asset_id, me):
                results.append({"id": asset_id, "success": False, "error": "no_permission"})
            else:
                album.assets[asset_id] = None
                added = True
                results.append({"id": asset_id, "success": True})
        self._touch(album, added=added)
        return json_response(results)

    def _touch(self, album: SimAlbum, *, added: bool) -> None:
        now = self.lib.tick()
        if added:
            album.updated_ms = now
            if album.thumbnail_id is None:
                album.thumbnail_id = next(iter(album.assets), None)

    async def remove_album_assets(self, r: web.Request, p: dict[str, Any]) -> web.Response:
        me = r["me"]
        album = self._album_for(p["id"], me, write=True)
        results: list[dict[str, Any]] = []
        for asset_id in p["body"]["ids"]:
            if asset_id not in album.assets:
                results.append({"id": asset_id, "success": False, "error": "not_found"})
            elif album.owner_id != me and self.lib.assets[asset_id].owner_id != me:
                results.append({"id": asset_id, "success": False, "error": "no_permission"})
            else:
                del album.assets[asset_id]
                results.append({"id": asset_id, "success": True})
        if album.thumbnail_id not in album.assets:
            album.thumbnail_id = next(iter(album.assets), None)
        self.lib.tick()
        return json_response(results)

    async def add_assets_to_albums(self, r: web.Request, p: dict[str, Any]) -> web.Response:
        me, body = r["me"], p["body"]
        albums = []
        for album_id in body["albumIds"]:
            album = self.lib.albums.get(album_id)
            if album is not None and (album.owner_id == me or album.users.get(me) == "editor"):
                albums.append(album)
        assets = [i for i in body["assetIds"] if self._shareable(i, me)]
        if not albums or not assets:
            return json_response({"success": False, "error": "no_permission"})
        any_added = False
        for album in albums:
            new = [i for i in assets if i not in album.assets]
            for asset_id in new:
                album.assets[asset_id] = None
            self._touch(album, added=bool(new))
            any_added = any_added or bool(new)
        if not any_added:
            return json_response({"success": False, "error": "duplicate"})
        return json_response({"success": True})

    async def add_album_users(self, r: web.Request, p: dict[str, Any]) -> web.Response:
        album = self._album_for(p["id"], r["me"])
        if album.owner_id != r["me"]:
            raise ApiError(400, "Not found or no albumUser.create access")
        for entry in p["body"]["albumUsers"]:
            role = entry.get("role", "editor")
            if role == "owner":
                raise ApiError(400, "Cannot add another owner")
            user_id = entry["userId"]
            if user_id not in self.lib.users:
                raise ApiError(400, "User not found")
            if user_id == album.owner_id:
                raise ApiError(400, "Cannot be shared with owner")
            album.users.setdefault(user_id, role)
        album.updated_ms = self.lib.tick()
        return json_response(self.album_response(album))

    async def update_album_user(self, r: web.Request, p: dict[str, Any]) -> web.StreamResponse:
        album = self._album_for(p["id"], r["me"])
        user_id = r["me"] if p["userId"] == "me" else p["userId"]
        if user_id == album.owner_id:
            raise ApiError(400, "User is owner")
        if album.owner_id != r["me"]:
            raise ApiError(400, "Not found or no albumUser.update access")
        if user_id not in album.users:
            raise ApiError(400, "Album not shared with user")
        album.users[user_id] = p["body"]["role"]
        self.lib.tick()
        return web.Response(status=204)

    async def remove_album_user(self, r: web.Request, p: dict[str, Any]) -> web.StreamResponse:
        album = self._album_for(p["id"], r["me"])
        user_id = r["me"] if p["userId"] == "me" else p["userId"]
        if user_id == album.owner_id:
            raise ApiError(400, "Cannot remove album owner")
        if album.owner_id != r["me"] and user_id != r["me"]:
            raise ApiError(400, "Not found or no albumUser.delete access")
        if album.users.pop(user_id, None) is None:
            raise ApiError(400, "Album not shared with user")
        self.lib.tick()
        return web.Response(status=204)
