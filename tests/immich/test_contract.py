"""Every client method, in each version mode, sends requests valid against the spec."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest

from custom_components.immich_autotag.const import OPTIONAL_PERMISSIONS, REQUIRED_PERMISSIONS
from custom_components.immich_autotag.immich.client import ImmichClient
from custom_components.immich_autotag.immich.limiter import Limiter
from tests.sim.openapi import validator_for

from . import payloads as p
from .conftest import make_client
from .fake_server import FakeImmich, Reply, Sent, json_reply

ALL = re.compile(r"^http://immich\.local:2283/api/.*$")
IDS = [p.aid(n) for n in range(1, 1203)]
THREE_FAMILIES = pytest.mark.parametrize(  # v2, v3.0/3.1, v3.2
    ("spec", "version"), [("2.7.0", (2, 7, 0)), ("3.0.3", (3, 0, 3)), ("3.2.2", (3, 2, 2))]
)


class Recorder:
    """A fake server answering every route with a spec-shaped payload; records requests."""

    def __init__(self, v32: bool) -> None:
        self.v32 = v32
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.replies: list[tuple[str, str, int, Any]] = []  # method, path, status, payload

    def __call__(self, req: Sent) -> Reply:
        self.requests.append((req.method, req.path, req.query, req.body))
        reply = self.respond(req.method, req.path, req.body)
        payload = None if reply.status == 204 else reply.payload
        self.replies.append((req.method, req.path, reply.status, payload))
        return reply

    def respond(self, method: str, path: str, body: Any) -> Reply:  # noqa: PLR0911
        if path == "/search/metadata":
            return Reply(payload=p.search([p.asset(1), p.asset(2)], v32=self.v32))
        if method == "GET" and path == "/albums":
            return json_reply([p.album_v2() if not self.v32 else p.album_v3()])
        if method == "GET" and path.startswith("/albums/"):
            return Reply(payload=p.album_v2(assets=[p.asset(1)]))
        if path == "/albums" and method == "POST":
            return Reply(status=201, payload=p.album_v3())
        if (
            path.endswith("/assets")
            and path.startswith(("/albums/", "/tags/"))
            and path not in {"/tags/assets", "/albums/assets"}
        ):
            return json_reply(p.bulk(body["ids"]))
        fixed: dict[tuple[str, str], Any] = {
            ("GET", "/server/version"): p.version(3, 0, 3),
            ("GET", "/users/me"): p.admin_user(v32=self.v32),
            ("GET", "/users"): [p.user()],
            ("GET", "/api-keys/me"): p.api_key(),
            ("GET", "/tags"): [p.tag()],
            ("PUT", "/tags"): [p.tag()],
            ("PUT", "/tags/assets"): {"count": 1},
            ("POST", "/search/statistics"): {"total": 2},
            ("PUT", f"/albums/{p.ALBUM}/users"): p.album_v3(),
        }
        if (method, path) in fixed:
            return json_reply(fixed[(method, path)])
        return Reply(status=204)


def recording(mock: FakeImmich, version: tuple[int, int, int]) -> Recorder:
    """A recorder that answers every route of the fake server as `version` does."""
    recorder = Recorder(v32=version >= (3, 2, 0))
    for method in ("GET", "POST", "PUT", "DELETE"):
        mock.add(ALL, method, callback=recorder, repeat=True)
    return recorder


@pytest.fixture
def recorded(
    session: aiohttp.ClientSession,
    limiter: Limiter,
    mock: FakeImmich,
    version: tuple[int, int, int],
) -> tuple[ImmichClient, Recorder]:
    """A client of `version` (the test's parameter) and the recorder answering it."""
    return make_client(session, limiter, version), recording(mock, version)


def request_problems(recorder: Recorder, spec: str) -> list[str]:
    """Where the recorded requests break the OpenAPI spec of `spec`."""
    validator = validator_for(spec)
    return [err for m, path, q, b in recorder.requests for err in validator.validate(m, path, q, b)]


async def drive_everything(client: ImmichClient) -> None:
    await client.get_server_version()
    await client.get_my_user()
    await client.get_my_api_key()
    await client.list_users()
    async for _ in client.iter_assets():
        pass
    await client.search_asset_ids(tag_id=p.TAG)
    await client.search_asset_ids(album_id=p.ALBUM)
    await client.has_trashed_assets(album_id=p.ALBUM)
    await client.has_trashed_assets(tag_id=p.TAG)
    await client.get_album(p.ALBUM)
    await client.update_assets_date(IDS, "2019-05-12T00:00:00.000+02:00")
    await client.list_tags()
    await client.upsert_tags(["Places/France/Paris", "Auto"])
    assert await client.tag_assets([p.TAG], IDS) == 2
    await client.untag_assets(p.TAG, IDS)
    await client.delete_tag(p.TAG)
    albums = await client.list_albums()
    await client.get_album_asset_ids(albums[0])
    await client.create_album("New", IDS, [(p.FRIEND, "viewer")])
    await client.add_assets_to_album(p.ALBUM, IDS)
    await client.remove_assets_from_album(p.ALBUM, IDS)
    await client.add_album_users(p.ALBUM, [(p.FRIEND, "editor")])
    await client.update_album_user(p.ALBUM, p.FRIEND, "viewer")
    await client.remove_album_user(p.ALBUM, p.FRIEND)
    await client.delete_album(p.ALBUM)


@pytest.mark.parametrize(
    ("spec", "version"),
    [("2.7.0", (2, 7, 0)), ("3.0.3", (3, 0, 3)), ("3.1.0", (3, 1, 0)), ("3.2.2", (3, 2, 2))],
)
async def test_requests_validate(
    recorded: tuple[ImmichClient, Recorder], spec: str, version: tuple[int, int, int]
) -> None:
    client, recorder = recorded
    await drive_everything(client)
    assert request_problems(recorder, spec) == []
    validator = validator_for(spec)
    # Every permission a request needs is one the product documents (required or optional).
    needed = {
        route.permission
        for m, path, _, _ in recorder.requests
        if (route := validator.match(m, path)) is not None and route.permission is not None
    }
    assert needed <= REQUIRED_PERMISSIONS | OPTIONAL_PERMISSIONS
    if version >= (3, 0, 0):  # the scripted answers are the spec's shapes (v2's are older)
        wrong = [
            err
            for m, path, status, body in recorder.replies
            for err in validator.validate_response(m, path, status, body)
        ]
        assert wrong == []
    endpoints = set(client.stats.by_endpoint)
    # GET /albums/{id} is used on every version; POST /search/statistics up to v3.1
    assert len(endpoints) == (20 if version >= (3, 2, 0) else 21)
    assert client.stats.total == len(recorder.requests)
    searches = [  # the paged walks (the trashed-asset probe asks for one item)
        b for m, path, _, b in recorder.requests if path == "/search/metadata" and b["size"] > 1
    ]
    if version >= (3, 2, 0):
        assert all("filter" in b and b["filter"]["trashedAt"] == {"eq": None} for b in searches)
        assert all(
            not ({"page", "order", "tagIds", "albumIds", "id", "updatedAfter"} & set(b))
            for b in searches
        )
    else:
        assert all("filter" not in b and b["order"] == "asc" for b in searches)
    if version < (3, 0, 0):
        assert {
            q.get("shared")
            for m, path, q, _ in recorder.requests
            if m == "GET" and path == "/albums"
        } == {"true", "false"}
        assert all(b.get("visibility") in {"timeline", "archive"} for b in searches)
        assert ("GET", f"/albums/{p.ALBUM}") in {(m, path) for m, path, _, _ in recorder.requests}


async def test_invalid_request_is_detected() -> None:
    # the validator really rejects bad requests (an oversized page, an unknown route)
    problems = validator_for("3.0.3").validate("POST", "/search/metadata", {}, {"size": 1001})
    assert problems
    assert validator_for("3.2.2").validate("GET", "/assets", {}, None)


@THREE_FAMILIES
async def test_trash_check_validates(
    recorded: tuple[ImmichClient, Recorder], spec: str, version: tuple[int, int, int]
) -> None:
    client, recorder = recorded
    assert await client.has_trashed_assets(album_id=p.ALBUM) is True  # the fake answers a page
    assert await client.has_trashed_assets(tag_id=p.TAG) is True
    assert request_problems(recorder, spec) == []
    album_body, tag_body = [b for _, path, _, b in recorder.requests if path == "/search/metadata"]
    if version >= (3, 2, 0):
        assert album_body["filter"]["trashedAt"] == {"ne": None}
        assert album_body["filter"]["albumIds"] == {"any": [p.ALBUM]}
        assert tag_body["filter"] == {"trashedAt": {"ne": None}, "tagIds": {"any": [p.TAG]}}
    else:
        assert album_body["trashedAfter"].startswith("1970-01-01")
        assert album_body["albumIds"] == [p.ALBUM]
        assert tag_body["tagIds"] == [p.TAG]
        assert tag_body["trashedAfter"] == album_body["trashedAfter"]


@THREE_FAMILIES
async def test_album_members_are_added_in_one_request(
    recorded: tuple[ImmichClient, Recorder], spec: str, version: tuple[int, int, int]
) -> None:
    """`PUT /albums/{id}/users` carries every new member with its role (one request)."""
    client, recorder = recorded
    members = [(p.FRIEND, "editor"), (p.aid(7), "viewer"), (p.aid(8), "editor")]
    await client.add_album_users(p.ALBUM, members)
    await client.create_album("New", IDS[:2], members)
    assert request_problems(recorder, spec) == []
    put, post = recorder.requests
    assert put[:2] == ("PUT", f"/albums/{p.ALBUM}/users")
    assert put[3] == {"albumUsers": [{"userId": u, "role": r} for u, r in members]}
    assert post[3]["albumUsers"] == put[3]["albumUsers"]
