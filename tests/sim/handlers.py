"""Endpoint handlers of the simulator (paths relative to `/api`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from .album_handlers import AlbumRoutes
from .dates import to_ms, zone_label, zone_offset_ms
from .records import SimApiKey, SimAsset
from .search import SearchError
from .server import ApiError, json_response
from .shapes import asset_json, tag_json, user_admin_json, user_json

if TYPE_CHECKING:
    from .server import Simulator

Route = Callable[[web.Request, dict[str, Any]], Awaitable[web.StreamResponse]]


class Handlers(AlbumRoutes):
    """Routes `METHOD /template` to a handler; does parsing, validation and auth first."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.lib = sim.lib
        self.routes: dict[str, Route] = {
            "GET /server/ping": self.ping,
            "GET /server/version": self.server_version,
            "GET /server/about": self.about,
            "GET /users/me": self.users_me,
            "GET /users": self.users,
            "GET /api-keys/me": self.api_key_me,
            "POST /search/metadata": self.search_metadata,
            "POST /search/statistics": self.search_statistics,
            "GET /tags": self.get_tags,
            "PUT /tags": self.upsert_tags,
            "POST /tags": self.create_tag,
            "DELETE /tags/{id}": self.delete_tag,
            "PUT /tags/assets": self.bulk_tag,
            "PUT /tags/{id}/assets": self.tag_assets,
            "DELETE /tags/{id}/assets": self.untag_assets,
            "GET /albums": self.get_albums,
            "GET /albums/{id}": self.get_album,
            "POST /albums": self.create_album,
            "PATCH /albums/{id}": self.update_album,
            "DELETE /albums/{id}": self.delete_album,
            "PUT /albums/{id}/assets": self.add_album_assets,
            "DELETE /albums/{id}/assets": self.remove_album_assets,
            "PUT /albums/assets": self.add_assets_to_albums,
            "PUT /albums/{id}/users": self.add_album_users,
            "PUT /albums/{id}/user/{userId}": self.update_album_user,
            "DELETE /albums/{id}/user/{userId}": self.remove_album_user,
            "PUT /assets": self.update_assets,
            "GET /assets/{id}": self.get_asset,
            "GET /duplicates": self.duplicates,
        }

    async def dispatch(self, request: web.Request) -> web.StreamResponse:  # noqa: PLR0911
        """Validate, authenticate, authorise, then run the route."""
        sim = self.sim
        match = request["match"]
        route: str = request["route"]
        body: Any = None
        if request.body_exists:  # read() is cached: a middleware may have read it
            raw = await request.read()
            if raw:
                try:
                    body = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    sim.stats.violations.append(f"{route}: body is not JSON")
                    return sim.error(400, "Invalid JSON body")
        query: dict[str, list[str]] = {}
        for name, value in request.query.items():
            query.setdefault(name, []).append(value)
        violations = sim.validator.validate(request.method, request.path[4:], query, body)
        if match is None:
            sim.stats.violations.extend(violations)
            return json_response(
                {
                    "message": f"Cannot {request.method} {request.path}",
                    "error": "Not Found",
                    "statusCode": 404,
                },
                404,
            )
        if not match.public:
            key = self.lib.keys.get(request.headers.get("x-api-key", ""))
            if key is None or key.revoked:
                return sim.error(401, "Invalid API key")
            sim.stats.authenticated_requests += 1
            revoke_after = sim.faults.revoke_after
            if revoke_after is not None and sim.stats.authenticated_requests > revoke_after:
                key.revoked = True
                return sim.error(401, "Invalid API key")
            if match.permission and not ({"all", match.permission} & key.permissions):
                return sim.error(403, f"Missing required permission: {match.permission}")
            request["key"] = key
            request["me"] = key.user_id
        if violations:
            sim.stats.violations.extend(violations)
            errors = [{"code": "invalid", "path": [], "message": v} for v in violations]
            return sim.error(400, "Validation failed", errors)
        handler = self.routes.get(route)
        if handler is None:
            sim.stats.violations.append(f"{route}: not implemented by the simulator")
            return sim.error(501, f"{route} is not simulated")
        params = dict(match.params)
        request["items"] = _carried_items(body)
        request["body"] = body  # the timeline says what the request read
        params["query"] = {k: v[-1] for k, v in query.items()}
        params["body"] = body
        try:
            return await handler(request, params)
        except ApiError as err:
            return sim.error(err.status, err.message, err.errors)
        except SearchError as err:
            return sim.error(400, str(err))

    # -- helpers ---------------------------------------------------------------------------
    # -- server / users --------------------------------------------------------------------
    async def ping(self, _r: web.Request, _p: dict[str, Any]) -> web.Response:
        return json_response({"res": "pong"})

    async def server_version(self, _r: web.Request, _p: dict[str, Any]) -> web.Response:
        major, minor, patch = self.sim.version
        return json_response({"major": major, "minor": minor, "patch": patch, "prerelease": None})

    async def about(self, _r: web.Request, _p: dict[str, Any]) -> web.Response:
        version = f"v{self.sim.version_str}"
        return json_response(
            {
                "version": version,
                "versionUrl": "https://github.com/immich-app/immich",
                "licensed": False,
            }
        )

    async def users_me(self, r: web.Request, _p: dict[str, Any]) -> web.Response:
        return json_response(user_admin_json(self.lib.users[r["me"]], self.sim.version))

    async def users(self, _r: web.Request, _p: dict[str, Any]) -> web.Response:
        return json_response([user_json(u) for u in self.lib.users.values()])

    async def api_key_me(self, r: web.Request, _p: dict[str, Any]) -> web.Response:
        key: SimApiKey = r["key"]
        stamp = "2025-01-01T00:00:00.000Z"
        return json_response(
            {
                "id": key.id,
                "name": key.name,
                "permissions": sorted(key.permissions),
                "createdAt": stamp,
                "updatedAt": stamp,
            }
        )

    # -- search / assets -------------------------------------------------------------------
    async def search_metadata(self, r: web.Request, p: dict[str, Any]) -> web.Response:
        body: dict[str, Any] = p["body"] or {}
        self.sim.stats.search_styles["filter" if "filter" in body else "flat"] += 1
        items, next_page, next_cursor = self.sim.search.search(r["me"], body)
        r["items"] = len(items)
        with_exif = bool(body.get("withExif"))
        version = self.sim.version
        assets: dict[str, Any] = {
            "total": len(items),
            "count": len(items),
            "items": [asset_json(a, version, with_exif=with_exif) for a in items],
            "facets": [],
            "nextPage": next_page,
        }
        if version >= (3, 2, 0):
            assets["nextCursor"] = next_cursor
        return json_response(
            {"albums": {"total": 0, "count": 0, "items": [], "facets": []}, "assets": assets}
        )

    async def search_statistics(self, r: web.Request, p: dict[str, Any]) -> web.Response:
        return json_response({"total": self.sim.search.count(r["me"], p["body"] or {})})

    async def get_asset(self, r: web.Request, p: dict[str, Any]) -> web.Response:
        asset = self.lib.assets.get(p["id"])
        if asset is None or asset.owner_id != r["me"]:
            raise ApiError(400, "Not found or no asset.read access")
        tags = [tag_json(t) for t in self.lib.tags.values() if asset.id in t.assets]
        return json_response(asset_json(asset, self.sim.version, with_exif=True, tags=tags))

    async def update_assets(self, r: web.Request, p: dict[str, Any]) -> web.StreamResponse:
        body: dict[str, Any] = p["body"]
        me = r["me"]
        targets = [self._visible_asset(i, me) for i in body["ids"]]
        if any(t is None for t in targets):
            raise ApiError(400, "Not found or no asset.update access")
        now = self.lib.tick()
        dated: list[str] = []
        for asset in targets:
            assert asset is not None
            if self._apply_update(asset, body):
                dated.append(asset.id)
            asset.updated_ms = now
        if dated:
            self.sim.on_date_write(dated)
        return web.Response(status=204)

    def _apply_update(self, asset: SimAsset, body: dict[str, Any]) -> bool:
        """Apply one asset's update; True when its date changed (a re-extraction follows)."""
        if "visibility" in body:
            asset.visibility = body["visibility"]
        if "duplicateId" in body:
            asset.duplicate_id = body["duplicateId"]
        instant = asset.exif_ms if asset.exif_ms is not None else asset.file_created_ms
        zone = asset.time_zone
        changed = False
        if body.get("dateTimeOriginal"):
            parsed = datetime.fromisoformat(body["dateTimeOriginal"])
            instant = to_ms(parsed)
            offset = parsed.utcoffset()
            if (
                offset is not None
                and body["dateTimeOriginal"].rstrip().endswith(("Z", "z")) is False
            ):
                zone = zone_label(int(offset.total_seconds() // 60))
            changed = True
        if body.get("dateTimeRelative"):
            instant += int(body["dateTimeRelative"]) * 60_000
            changed = True
        if body.get("timeZone"):
            zone = body["timeZone"]
            changed = True
        if changed:
            asset.exif_ms, asset.time_zone = instant, zone
            asset.pending = (instant, instant + zone_offset_ms(zone, instant))
            self.lib.pending_ids.add(asset.id)
        return changed

    async def duplicates(self, r: web.Request, _p: dict[str, Any]) -> web.Response:
        groups: dict[str, list[SimAsset]] = {}
        for asset in self.lib.assets.values():
            if asset.duplicate_id and asset.owner_id == r["me"] and not asset.trashed:
                groups.setdefault(asset.duplicate_id, []).append(asset)
        out = []
        for dup_id, members in groups.items():
            if len(members) < 2:
                continue
            items = [
                asset_json(
                    a,
                    self.sim.version,
                    with_exif=True,
                    tags=[tag_json(t) for t in self.lib.tags.values() if a.id in t.assets],
                )
                for a in members
            ]
            out.append(
                {"duplicateId": dup_id, "assets": items, "suggestedKeepAssetIds": [members[0].id]}
            )
        return json_response(out)

    # -- tags ------------------------------------------------------------------------------
    async def get_tags(self, r: web.Request, _p: dict[str, Any]) -> web.Response:
        return json_response([tag_json(t) for t in self.lib.tags.values() if t.owner_id == r["me"]])

    async def upsert_tags(self, r: web.Request, p: dict[str, Any]) -> web.Response:
        seen: dict[str, Any] = {}
        for path in p["body"]["tags"]:
            clean = path.strip().strip("/")
            if not clean or "//" in clean:
                raise ApiError(400, "Invalid tag value")
            if clean not in seen:
                seen[clean] = tag_json(self.lib.add_tag(r["me"], clean))
        return json_response(list(seen.values()))

    async def create_tag(self, r: web.Request, p: dict[str, Any]) -> web.Response:
        body = p["body"]
        parent = self.lib.tags.get(body.get("parentId") or "")
        if body.get("parentId") and (parent is None or parent.owner_id != r["me"]):
            raise ApiError(400, "Tag not found")
        value = f"{parent.value}/{body['name']}" if parent else body["name"]
        if self.lib.tag_by_value(r["me"], value) is not None:
            raise ApiError(400, "A tag with that name already exists")
        tag = self.lib.add_tag(r["me"], value)
        tag.color = body.get("color")
        return json_response(tag_json(tag), 201)

    async def delete_tag(self, r: web.Request, p: dict[str, Any]) -> web.StreamResponse:
        tag = self.lib.tags.get(p["id"])
        if tag is None or tag.owner_id != r["me"]:
            raise ApiError(400, "Not found or no tag.delete access")
        for tag_id in self.lib.tag_closure(tag.id):
            del self.lib.tags[tag_id]
        self.lib.tick()
        return web.Response(status=204)

    async def bulk_tag(self, r: web.Request, p: dict[str, Any]) -> web.Response:
        me = r["me"]
        tags = [
            t
            for i in p["body"]["tagIds"]
            if (t := self.lib.tags.get(i)) is not None and t.owner_id == me
        ]
        assets = [
            a.id for i in p["body"]["assetIds"] if (a := self._visible_asset(i, me)) is not None
        ]
        count = sum(self.lib.tag_asset(tag, *assets) for tag in tags)
        return json_response({"count": count})

    async def tag_assets(self, r: web.Request, p: dict[str, Any]) -> web.Response:
        return self._tag_link(r["me"], p, add=True)

    async def untag_assets(self, r: web.Request, p: dict[str, Any]) -> web.Response:
        return self._tag_link(r["me"], p, add=False)

    def _tag_link(self, me: str, p: dict[str, Any], *, add: bool) -> web.Response:
        tag = self.lib.tags.get(p["id"])
        if tag is None or tag.owner_id != me:
            raise ApiError(400, "Not found or no tag.asset access")
        results: list[dict[str, Any]] = []
        for asset_id in p["body"]["ids"]:
            asset = self.lib.assets.get(asset_id)
            if asset is None:
                results.append({"id": asset_id, "success": False, "error": "not_found"})
            elif asset.owner_id != me:
                results.append({"id": asset_id, "success": False, "error": "no_permission"})
            elif (asset_id in tag.assets) == add:
                results.append(
                    {"id": asset_id, "success": False, "error": "duplicate" if add else "not_found"}
                )
            else:
                (tag.assets.add if add else tag.assets.discard)(asset_id)
                results.append({"id": asset_id, "success": True})
        self.lib.tick()
        return json_response(results)


def _carried_items(body: Any) -> int:
    """Ids a request body carries (bulk writes), for the per-item service time."""
    if not isinstance(body, dict):
        return 0
    lists = (body.get(k) for k in ("ids", "assetIds", "tags", "albumUsers"))
    return sum(len(v) for v in lists if isinstance(v, list))
