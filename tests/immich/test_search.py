"""Paged search: asset walks per version mode, id-only searches, parsing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from custom_components.immich_autotag.immich.client import ImmichClient
from custom_components.immich_autotag.immich.errors import ImmichInvalidResponseError
from custom_components.immich_autotag.immich.limiter import Limiter

from . import payloads as p
from .capture import bodies_for
from .conftest import make_client
from .fake_server import BASE, FakeImmich, Reply, Sent

SEARCH = f"{BASE}/search/metadata"
STATS = f"{BASE}/search/statistics"


async def collect(client: ImmichClient) -> list[list[str]]:
    return [[a.id for a in page] async for page in client.iter_assets()]


def by_page(pages: Mapping[Any, dict[str, Any]]) -> Callable[[Sent], Reply]:
    """Answers each (visibility, page) search with its payload, whatever the arrival order."""
    return lambda req: Reply(payload=pages[req.body.get("visibility"), req.body["page"]])


async def test_v30_walk_pages_dedupe_hidden(client: ImmichClient, mock: FakeImmich) -> None:
    mock.post(STATS, payload={"total": 1500})  # two pages of 1000, fetched together
    first = [p.asset(1), p.asset(2), p.asset(3, visibility="hidden")]
    second = [p.asset(2), p.asset(4, visibility="archive"), p.asset(5, trashed=True)]
    pages = {(None, 1): p.search(first, next_page="2"), (None, 2): p.search(second)}
    mock.post(SEARCH, callback=by_page(pages), repeat=True)
    assert await collect(client) == [[p.aid(1), p.aid(2)], [p.aid(4)]]
    bodies = sorted(bodies_for(mock, "POST", "/search/metadata"), key=lambda b: b["page"])
    assert bodies == [
        {"size": 1000, "withExif": True, "order": "asc", "page": 1},
        {"size": 1000, "withExif": True, "order": "asc", "page": 2},
    ]
    assert client.stats.by_endpoint == {"POST /search/metadata": 2, "POST /search/statistics": 1}
    assert bodies_for(mock, "POST", "/search/statistics") == [{}]
    assert client.stats.writes == 0


async def test_asset_fields(client: ImmichClient, mock: FakeImmich) -> None:
    item = p.asset(1)
    item["duplicateId"] = "d0000000-0000-4000-8000-000000000001"
    item["exifInfo"]["dateTimeOriginal"] = "2019-05-12T08:30:00+00:00"
    mock.post(STATS, payload={"total": 2})
    mock.post(SEARCH, payload=p.search([item, p.asset(2, exif=False, visibility="archive")]))
    assets = [a async for page in client.iter_assets() for a in page]
    first, second = assets
    assert first.owner_id == p.OWNER
    assert first.original_file_name == "IMG_0001.jpg"
    assert first.original_path == "/photos/2019/IMG_0001.jpg"
    assert first.file_created_at == datetime(2019, 5, 12, 8, 30, tzinfo=UTC)
    assert first.date_time_original == datetime(2019, 5, 12, 8, 30, tzinfo=UTC)
    assert first.time_zone == "Europe/Madrid"
    assert first.duplicate_id == "d0000000-0000-4000-8000-000000000001"
    assert first.visibility == "timeline"
    assert first.capture_instant == first.date_time_original
    assert second.date_time_original is None
    assert second.time_zone is None
    assert second.visibility == "archive"
    assert second.capture_instant == second.file_created_at


async def test_v2_walks_timeline_and_archive(
    session: aiohttp.ClientSession, limiter: Limiter, mock: FakeImmich
) -> None:
    client = make_client(session, limiter, (2, 7, 5))
    mock.post(STATS, payload={"total": 1001})  # timeline: two pages
    mock.post(STATS, payload={"total": 2})  # archive: one
    pages = {
        ("timeline", 1): p.search([p.asset(1)], next_page="2"),
        ("timeline", 2): p.search([p.asset(2)]),
        ("archive", 1): p.search([p.asset(3, visibility="archive"), p.asset(1)]),
    }
    mock.post(SEARCH, callback=by_page(pages), repeat=True)
    assert await collect(client) == [[p.aid(1)], [p.aid(2)], [p.aid(3)]]
    bodies = bodies_for(mock, "POST", "/search/metadata")
    assert sorted((b["visibility"], b["page"]) for b in bodies) == sorted(pages)
    assert all(b["withExif"] is True for b in bodies)
    counts = bodies_for(mock, "POST", "/search/statistics")
    assert [b["visibility"] for b in counts] == ["timeline", "archive"]
    assert all("withExif" not in b for b in counts)


async def test_v32_filter_cursor(
    session: aiohttp.ClientSession, limiter: Limiter, mock: FakeImmich
) -> None:
    client = make_client(session, limiter, (3, 2, 2))
    mock.post(SEARCH, payload=p.search([p.asset(1)], cursor="eyJvZmZzZXQiOjEwMDB9", v32=True))
    mock.post(SEARCH, payload=p.search([p.asset(2)], cursor=None, v32=True))
    pages = await collect(client)
    assert pages == [[p.aid(1)], [p.aid(2)]]
    first, second = bodies_for(mock, "POST", "/search/metadata")
    expected_filter = {"trashedAt": {"eq": None}, "visibility": {"in": ["timeline", "archive"]}}
    assert first == {
        "size": 1000,
        "filter": expected_filter,
        "withExif": True,
        "orderBy": {"field": "fileCreatedAt", "direction": "asc"},
    }
    assert second["cursor"] == "eyJvZmZzZXQiOjEwMDB9"
    assert "page" not in second
    assert "order" not in second


@pytest.mark.parametrize(
    ("version", "kwargs", "flat", "fil"),
    [
        ((3, 0, 3), {"tag_id": p.TAG}, {"tagIds": [p.TAG]}, None),
        ((3, 0, 3), {"album_id": p.ALBUM}, {"albumIds": [p.ALBUM]}, None),
        ((3, 2, 2), {"tag_id": p.TAG}, None, {"tagIds": {"any": [p.TAG]}}),
        ((3, 2, 2), {"album_id": p.ALBUM}, None, {"albumIds": {"any": [p.ALBUM]}}),
    ],
)
async def test_search_asset_ids(  # noqa: PLR0917
    session: aiohttp.ClientSession,
    limiter: Limiter,
    mock: FakeImmich,
    version: tuple[int, int, int],
    kwargs: dict[str, object],
    flat: dict[str, object] | None,
    fil: dict[str, object] | None,
) -> None:
    client = make_client(session, limiter, version)
    v32 = fil is not None
    mock.post(
        SEARCH,
        payload=p.search(
            [p.asset(1), p.asset(2, visibility="hidden")], next_page="2", cursor="c2", v32=v32
        ),
    )
    mock.post(SEARCH, payload=p.search([p.asset(3), p.asset(1)], v32=v32))
    mock.post(STATS, payload={"total": 1500})  # asked only after a first page with more
    ids = await client.search_asset_ids(**kwargs)  # type: ignore[arg-type]
    assert ids == [p.aid(1), p.aid(3)]
    counts = bodies_for(mock, "POST", "/search/statistics")
    if flat is not None:
        assert counts == [flat]
    else:
        assert counts == []  # v3.2 tag and album walks follow the cursor
    body = bodies_for(mock, "POST", "/search/metadata")[0]
    if flat is not None:
        assert {k: body[k] for k in flat} == flat
        assert "filter" not in body
    else:
        assert fil is not None
        for key, value in fil.items():
            assert body["filter"][key] == value
        assert body["filter"]["trashedAt"] == {"eq": None}
        assert not any(k in body for k in ("tagIds", "albumIds", "page", "order"))


async def test_search_ids_v2_two_walks(
    session: aiohttp.ClientSession, limiter: Limiter, mock: FakeImmich
) -> None:
    client = make_client(session, limiter, (2, 0, 0))
    mock.post(SEARCH, payload=p.search([p.asset(1)]))
    mock.post(SEARCH, payload=p.search([p.asset(2, visibility="archive")]))
    assert await client.search_asset_ids(tag_id=p.TAG) == [p.aid(1), p.aid(2)]
    assert [b["visibility"] for b in bodies_for(mock, "POST", "/search/metadata")] == [
        "timeline",
        "archive",
    ]


@pytest.mark.parametrize(
    "payload",
    [
        b'{"assets": {"items": [',
        b'{"albums": {}}',
        b'{"assets": {"items": {}, "nextPage": null}}',
        b'{"assets": {"items": [{"id": 7}], "nextPage": null}}',
        b'{"assets": {"items": ["x"], "nextPage": null}}',
        b'{"assets": {"items": [], "nextPage": 2.5}}',
        b"null",
    ],
)
async def test_malformed_search_ids(client: ImmichClient, mock: FakeImmich, payload: bytes) -> None:
    mock.post(SEARCH, body=payload, content_type="application/json")
    with pytest.raises(ImmichInvalidResponseError):
        await client.search_asset_ids(tag_id=p.TAG)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", None),
        ("ownerId", 3),
        ("fileCreatedAt", "yesterday"),
        ("originalPath", None),
        ("isTrashed", "no"),
        ("exifInfo", []),
    ],
)
async def test_malformed_asset(
    client: ImmichClient, mock: FakeImmich, field: str, value: object
) -> None:
    item = p.asset(1)
    if value is None:
        del item[field]
    else:
        item[field] = value
    mock.post(STATS, payload={"total": 1})
    mock.post(SEARCH, payload=p.search([item]))
    with pytest.raises(ImmichInvalidResponseError):
        await collect(client)


@pytest.mark.parametrize("version", [(3, 0, 3), (3, 2, 2)])
async def test_paging_must_advance(
    session: aiohttp.ClientSession,
    limiter: Limiter,
    mock: FakeImmich,
    version: tuple[int, int, int],
) -> None:
    client = make_client(session, limiter, version)
    v32 = version >= (3, 2, 0)
    mock.post(SEARCH, payload=p.search([p.asset(1)], next_page="2", cursor="c", v32=v32))
    mock.post(
        SEARCH, payload=p.search([p.asset(2)], next_page="2", cursor="c", v32=v32), repeat=True
    )
    mock.post(STATS, payload={"total": 2500})
    with pytest.raises(ImmichInvalidResponseError):
        await client.search_asset_ids(tag_id=p.TAG)
    assert client.stats.by_endpoint["POST /search/metadata"] >= 2
