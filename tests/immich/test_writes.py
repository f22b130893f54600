"""Tags, albums, dates, duplicates: bodies, chunking, per-id results, parsing."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
import pytest

from custom_components.immich_autotag.immich.client import CHUNK_SIZE, ImmichClient
from custom_components.immich_autotag.immich.errors import ImmichInvalidResponseError
from custom_components.immich_autotag.immich.limiter import Limiter
from custom_components.immich_autotag.immich.models import AlbumUser, BulkIdResult

from . import payloads as p
from .capture import bodies_for, sent
from .conftest import make_client
from .fake_server import BASE, FakeImmich, Reply, Sent, json_reply

IDS = [p.aid(n) for n in range(2500)]


def echo_bulk(req: Sent) -> Reply:
    return json_reply(p.bulk(req.body["ids"]))


async def test_update_assets_date_chunks(client: ImmichClient, mock: FakeImmich) -> None:
    mock.put(f"{BASE}/assets", status=204, repeat=True)
    await client.update_assets_date(IDS, "2019-05-12T00:00:00.000+02:00")
    bodies = bodies_for(mock, "PUT", "/assets")
    assert [len(b["ids"]) for b in bodies] == [1000, 1000, 500]
    assert all(b["dateTimeOriginal"] == "2019-05-12T00:00:00.000+02:00" for b in bodies)
    assert [i for b in bodies for i in b["ids"]] == IDS
    assert client.stats.writes == 3
    assert client.stats.by_endpoint == {"PUT /assets": 3}
    await client.update_assets_date([], "2019-05-12T00:00:00.000+02:00")
    assert client.stats.total == 3


async def test_tags(client: ImmichClient, mock: FakeImmich) -> None:
    child = "7a900000-0000-4000-8000-00000000000c"
    mock.get(f"{BASE}/tags", payload=[p.tag(), p.tag(child, "Places/France/Paris", p.TAG)])
    tags = await client.list_tags()
    assert [(t.value, t.name) for t in tags] == [
        ("Places/France", "France"),
        ("Places/France/Paris", "Paris"),
    ]
    mock.put(f"{BASE}/tags", payload=[p.tag(child, "Places/France/Paris", p.TAG)])
    upserted = await client.upsert_tags(["Places/France/Paris", "Places/France/Paris"])
    assert [t.id for t in upserted] == [child]
    assert bodies_for(mock, "PUT", "/tags") == [{"tags": ["Places/France/Paris"]}]
    assert await client.upsert_tags([]) == []


async def test_tag_assets_sums_counts(client: ImmichClient, mock: FakeImmich) -> None:
    mock.put(f"{BASE}/tags/assets", payload={"count": 900})
    mock.put(f"{BASE}/tags/assets", payload={"count": 1000})
    mock.put(f"{BASE}/tags/assets", payload={"count": 7})
    assert await client.tag_assets([p.TAG], IDS) == 1907
    bodies = bodies_for(mock, "PUT", "/tags/assets")
    assert [len(b["assetIds"]) for b in bodies] == [1000, 1000, 500]
    assert all(b["tagIds"] == [p.TAG] for b in bodies)
    assert await client.tag_assets([], IDS) == 0
    assert client.stats.by_endpoint["PUT /tags/assets"] == 3


async def test_untag_and_delete_tag(client: ImmichClient, mock: FakeImmich) -> None:
    mock.delete(f"{BASE}/tags/{p.TAG}/assets", callback=echo_bulk, repeat=True)
    results = await client.untag_assets(p.TAG, IDS)
    assert len(results) == 2500
    assert all(r.success for r in results)
    assert client.stats.by_endpoint["DELETE /tags/{id}/assets"] == 3
    mock.delete(f"{BASE}/tags/{p.TAG}", status=204)
    await client.delete_tag(p.TAG)
    assert client.stats.by_endpoint["DELETE /tags/{id}"] == 1


async def test_list_albums_v3(client: ImmichClient, mock: FakeImmich) -> None:
    mock.get(
        f"{BASE}/albums",
        payload=[
            p.album_v3(),
            p.album_v3("a1b00000-0000-4000-8000-00000000000b", "Solo", members=False),
        ],
    )
    albums = await client.list_albums()
    assert [a.name for a in albums] == ["Trip", "Solo"]
    trip = albums[0]
    assert trip.owner_id == p.OWNER
    assert trip.users == (AlbumUser(p.FRIEND, "friend@example.com", "viewer"),)
    assert trip.asset_count == 3
    assert trip.updated_at == "2024-02-01T00:00:00.000Z"
    assert trip.asset_ids is None
    assert albums[1].users == ()


async def test_list_albums_v2_merged(
    session: aiohttp.ClientSession, limiter: Limiter, mock: FakeImmich
) -> None:
    client = make_client(session, limiter, (2, 7, 5))
    other = "a1b00000-0000-4000-8000-00000000000b"
    mock.get(f"{BASE}/albums?shared=false", payload=[p.album_v2()])
    mock.get(
        f"{BASE}/albums?shared=true",
        payload=[
            p.album_v2(),
            {
                **p.album_v2(other, "Theirs"),
                "ownerId": p.FRIEND,
                "owner": p.user(p.FRIEND, "friend@example.com", "F"),
                "albumUsers": [{"user": p.user(), "role": "editor"}],
            },
        ],
    )
    albums = await client.list_albums()
    assert [(a.id, a.owner_id) for a in albums] == [(p.ALBUM, p.OWNER), (other, p.FRIEND)]
    assert albums[0].users == (AlbumUser(p.FRIEND, "friend@example.com", "editor"),)
    assert albums[1].users == (AlbumUser(p.OWNER, "me@example.com", "editor"),)
    assert client.stats.by_endpoint == {"GET /albums": 2}


async def test_album_members_v2_inline(
    session: aiohttp.ClientSession, limiter: Limiter, mock: FakeImmich
) -> None:
    client = make_client(session, limiter, (2, 7, 5))
    inline = [
        p.asset(1),
        p.asset(2, visibility="archive"),
        p.asset(3, trashed=True),
        p.asset(4, visibility="hidden"),
    ]
    mock.get(f"{BASE}/albums/{p.ALBUM}", payload=p.album_v2(assets=inline))
    album = await _one_album(client, mock, v2=True)
    assert await client.get_album_asset_ids(album) == [p.aid(1), p.aid(2)]


async def _one_album(client: ImmichClient, mock: FakeImmich, *, v2: bool = False) -> Any:
    if v2:
        mock.get(f"{BASE}/albums?shared=false", payload=[p.album_v2()])
        mock.get(f"{BASE}/albums?shared=true", payload=[])
    else:
        mock.get(f"{BASE}/albums", payload=[p.album_v3()])
    return (await client.list_albums())[0]


async def test_album_members_v3_search(client: ImmichClient, mock: FakeImmich) -> None:
    album = await _one_album(client, mock)
    mock.post(f"{BASE}/search/metadata", payload=p.search([p.asset(1), p.asset(5)]))
    assert await client.get_album_asset_ids(album) == [p.aid(1), p.aid(5)]
    assert bodies_for(mock, "POST", "/search/metadata")[0]["albumIds"] == [p.ALBUM]


async def test_create_album_chunks(client: ImmichClient, mock: FakeImmich) -> None:
    mock.post(f"{BASE}/albums", status=201, payload=p.album_v3(name="New"))
    mock.put(f"{BASE}/albums/{p.ALBUM}/assets", callback=echo_bulk, repeat=True)
    album = await client.create_album("New", IDS, [(p.FRIEND, "viewer")])
    assert album.name == "New"
    create = bodies_for(mock, "POST", "/albums")[0]
    assert create["albumName"] == "New"
    assert create["assetIds"] == IDS[:CHUNK_SIZE]
    assert create["albumUsers"] == [{"userId": p.FRIEND, "role": "viewer"}]
    adds = bodies_for(mock, "PUT", f"/albums/{p.ALBUM}/assets")
    assert [len(b["ids"]) for b in adds] == [1000, 500]
    assert client.stats.by_endpoint == {"POST /albums": 1, "PUT /albums/{id}/assets": 2}
    assert client.stats.writes == 3


async def test_create_album_minimal(client: ImmichClient, mock: FakeImmich) -> None:
    mock.post(f"{BASE}/albums", status=201, payload=p.album_v3(name="Empty", members=False))
    await client.create_album("Empty")
    assert bodies_for(mock, "POST", "/albums") == [{"albumName": "Empty"}]


async def test_album_asset_results(client: ImmichClient, mock: FakeImmich) -> None:
    ids = IDS[:3]
    mock.put(
        f"{BASE}/albums/{p.ALBUM}/assets",
        payload=[*p.bulk(ids[:2]), {"id": ids[2], "success": False, "error": "duplicate"}],
    )
    results = await client.add_assets_to_album(p.ALBUM, ids)
    assert results[2] == BulkIdResult(ids[2], success=False, error="duplicate")
    mock.delete(f"{BASE}/albums/{p.ALBUM}/assets", payload=p.bulk(ids, "not_found"))
    removed = await client.remove_assets_from_album(p.ALBUM, ids)
    assert {r.error for r in removed} == {"not_found"}
    assert await client.add_assets_to_album(p.ALBUM, []) == []
    assert client.stats.total == 2


async def test_album_users_and_delete(client: ImmichClient, mock: FakeImmich) -> None:
    mock.put(f"{BASE}/albums/{p.ALBUM}/users", payload=p.album_v3())
    await client.add_album_users(p.ALBUM, [(p.FRIEND, "viewer")])
    assert bodies_for(mock, "PUT", f"/albums/{p.ALBUM}/users") == [
        {"albumUsers": [{"userId": p.FRIEND, "role": "viewer"}]}
    ]
    mock.put(f"{BASE}/albums/{p.ALBUM}/user/{p.FRIEND}", status=204)
    await client.update_album_user(p.ALBUM, p.FRIEND, "editor")
    assert bodies_for(mock, "PUT", f"/albums/{p.ALBUM}/user/{p.FRIEND}") == [{"role": "editor"}]
    mock.delete(f"{BASE}/albums/{p.ALBUM}/user/{p.FRIEND}", status=204)
    await client.remove_album_user(p.ALBUM, p.FRIEND)
    mock.delete(f"{BASE}/albums/{p.ALBUM}", status=204)
    await client.delete_album(p.ALBUM)
    assert [(m, pth) for m, pth, _, _ in sent(mock)] == [
        ("PUT", f"/albums/{p.ALBUM}/users"),
        ("PUT", f"/albums/{p.ALBUM}/user/{p.FRIEND}"),
        ("DELETE", f"/albums/{p.ALBUM}/user/{p.FRIEND}"),
        ("DELETE", f"/albums/{p.ALBUM}"),
    ]
    assert client.stats.writes == 4


@pytest.mark.parametrize(
    ("method", "path", "payload", "call"),
    [
        ("GET", "/tags", [{"id": "x", "name": "a"}], lambda c: c.list_tags()),
        ("GET", "/tags", {"id": "x"}, lambda c: c.list_tags()),
        ("PUT", "/tags/assets", {"count": "3"}, lambda c: c.tag_assets([p.TAG], [p.aid(1)])),
        ("PUT", "/tags/assets", {}, lambda c: c.tag_assets([p.TAG], [p.aid(1)])),
        (
            "PUT",
            f"/albums/{p.ALBUM}/assets",
            [{"id": p.aid(1)}],
            lambda c: c.add_assets_to_album(p.ALBUM, [p.aid(1)]),
        ),
        (
            "PUT",
            f"/albums/{p.ALBUM}/assets",
            {"success": True},
            lambda c: c.add_assets_to_album(p.ALBUM, [p.aid(1)]),
        ),
        (
            "GET",
            "/albums",
            [
                {
                    "id": p.ALBUM,
                    "albumName": "x",
                    "assetCount": 1,
                    "updatedAt": "u",
                    "createdAt": "c",
                    "albumUsers": [],
                }
            ],
            lambda c: c.list_albums(),
        ),
        ("GET", "/albums", [{**p.album_v3(), "assetCount": True}], lambda c: c.list_albums()),
        (
            "GET",
            "/albums",
            [{**p.album_v3(), "albumUsers": [{"role": "owner"}]}],
            lambda c: c.list_albums(),
        ),
        ("GET", "/users", {"users": []}, lambda c: c.list_users()),
    ],
)
async def test_malformed_payloads(  # noqa: PLR0917
    client: ImmichClient, mock: FakeImmich, method: str, path: str, payload: object, call: Any
) -> None:
    mock.add(f"{BASE}{path}", method, body=orjson.dumps(payload), content_type="application/json")
    with pytest.raises(ImmichInvalidResponseError):
        await call(client)


async def test_truncated_json(client: ImmichClient, mock: FakeImmich) -> None:
    mock.get(
        f"{BASE}/tags", body=b'[{"id": "x", "name": "a", "val', content_type="application/json"
    )
    with pytest.raises(ImmichInvalidResponseError):
        await client.list_tags()
