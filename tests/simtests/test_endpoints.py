"""Simulator endpoints over real HTTP."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from tests.sim import Faults, Simulator, assert_no_violations
from tests.sim.generator import generate_library, generator_key
from tests.sim.storage import load_library, save_library

from .conftest import Api, Scenario


async def test_paging_closure_and_tags(served: tuple[Simulator, Api], scenario: Scenario) -> None:
    sim, api = served
    lib, a = scenario.lib, scenario.assets
    party = lib.add_tag(scenario.me, "events/party")
    lib.tag_asset(party, a[0])
    events = lib.tag_by_value(scenario.me, "events")
    assert events is not None
    seen: list[str] = []
    page: Any = 1
    while page:
        status, data = await api.call(
            "POST", "/search/metadata", {"page": int(page), "size": 2, "order": "asc"}
        )
        assert status == 200
        assert isinstance(data, dict)
        seen += [i["id"] for i in data["assets"]["items"]]
        page = data["assets"]["nextPage"]
    assert seen == [x.id for x in a]  # own assets only, asc, no overlap
    _, data = await api.call("POST", "/search/metadata", {"tagIds": [events.id]})
    assert isinstance(data, dict)
    assert [i["id"] for i in data["assets"]["items"]] == [a[0].id]  # closure
    _, data = await api.call("POST", "/search/metadata", {"tagIds": None})
    assert isinstance(data, dict)
    assert len(data["assets"]["items"]) == 4
    status, data = await api.call("PUT", "/tags", {"tags": ["places/es/madrid", "meme"]})
    assert status == 200
    assert isinstance(data, list)
    assert [t["value"] for t in data] == ["places/es/madrid", "meme"]
    madrid = data[0]["id"]
    status, data = await api.call(
        "PUT",
        "/tags/assets",
        {
            "tagIds": [madrid],
            "assetIds": [
                a[1].id,
                a[2].id,
                scenario.lib.assets[
                    next(iter(x for x in lib.assets if lib.assets[x].owner_id != scenario.me.id))
                ].id,
            ],
        },
    )
    assert data == {"count": 2}  # other's asset skipped silently
    _, data = await api.call("PUT", "/tags/assets", {"tagIds": [madrid], "assetIds": [a[1].id]})
    assert data == {"count": 0}
    assert lib.asset_tags(a[1].id) == {"places/es/madrid"}
    _, data = await api.call("DELETE", f"/tags/{madrid}/assets", {"ids": [a[1].id, a[3].id]})
    assert data == [
        {"id": a[1].id, "success": True},
        {"id": a[3].id, "success": False, "error": "not_found"},
    ]
    _, data = await api.call("GET", f"/assets/{a[0].id}")
    assert isinstance(data, dict)
    assert [t["value"] for t in data["tags"]] == ["events/party"]
    assert_no_violations(sim)


async def test_albums_updated_at_and_counts(
    served: tuple[Simulator, Api], scenario: Scenario
) -> None:
    sim, api = served
    lib, a = scenario.lib, scenario.assets
    status, album = await api.call(
        "POST",
        "/albums",
        {
            "albumName": "2024-07-15 Beach",
            "assetIds": [a[0].id],
            "albumUsers": [{"userId": scenario.other.id, "role": "viewer"}],
        },
    )
    assert status == 201
    assert isinstance(album, dict)
    assert album["assetCount"] == 1
    assert album["albumUsers"][0]["role"] == "owner"
    aid = album["id"]
    _, res = await api.call("PUT", f"/albums/{aid}/assets", {"ids": [a[0].id, a[1].id]})
    assert res == [
        {"id": a[0].id, "success": False, "error": "duplicate"},
        {"id": a[1].id, "success": True},
    ]
    updated = lib.albums[aid].updated_ms
    await api.call("DELETE", f"/albums/{aid}/assets", {"ids": [a[1].id]})
    assert lib.albums[aid].updated_ms == updated  # removal does not bump updatedAt
    _, res = await api.call("PUT", "/albums/assets", {"albumIds": [aid], "assetIds": [a[0].id]})
    assert res == {"success": False, "error": "duplicate"}
    _, res = await api.call("PUT", "/albums/assets", {"albumIds": [aid], "assetIds": [a[2].id]})
    assert res == {"success": True}
    assert lib.albums[aid].updated_ms > updated
    assert lib.album_assets(aid) == {a[0].id, a[2].id}
    _, found = await api.call("GET", "/albums", name="2024-07-15 Beach")
    assert isinstance(found, list)
    assert [x["id"] for x in found] == [aid]
    _, found = await api.call("POST", "/search/metadata", {"albumIds": [aid]})
    assert isinstance(found, dict)
    assert {i["id"] for i in found["assets"]["items"]} == {a[0].id, a[2].id}
    status, _ = await api.call("PUT", f"/albums/{aid}/user/{scenario.me.id}", {"role": "viewer"})
    assert status == 400
    status, _ = await api.call("PUT", f"/albums/{aid}/user/{scenario.other.id}", {"role": "editor"})
    assert status == 204
    assert lib.albums[aid].users == {scenario.other.id: "editor"}
    assert_no_violations(sim)


async def test_date_update_lags_until_metadata_job(
    served: tuple[Simulator, Api], scenario: Scenario
) -> None:
    sim, api = served
    sim.metadata_delay_s = None
    a = scenario.assets[0]
    before = a.file_created_ms
    status, _ = await api.call(
        "PUT", "/assets", {"ids": [a.id], "dateTimeOriginal": "2019-07-14T18:30:00.000+02:00"}
    )
    assert status == 204
    _, data = await api.call("POST", "/search/metadata", {"id": a.id, "withExif": True})
    assert isinstance(data, dict)
    item = data["assets"]["items"][0]
    assert item["exifInfo"]["dateTimeOriginal"] == "2019-07-14T16:30:00.000Z"
    assert item["exifInfo"]["timeZone"] == "UTC+2"
    assert a.file_created_ms == before
    assert sim.run_metadata_jobs() == 1
    assert a.local_date_time.isoformat() == "2019-07-14T18:30:00"


async def test_validation_auth_and_permissions(scenario: Scenario) -> None:
    lib = scenario.lib
    weak = lib.add_api_key(scenario.me, permissions={"asset.read"})
    sim = Simulator(lib, version="3.0.3")
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        api = Api(session, url, scenario.key)
        status, data = await api.call("POST", "/search/metadata", {"size": 1001})
        assert status == 400
        assert isinstance(data, dict)
        assert data["message"] == "Validation failed"
        assert len(sim.stats.violations) == 1
        sim.stats.violations.clear()  # the one this test provoked
        status, data = await Api(session, url, "bad").call("GET", "/users/me")
        assert (status, data) == (401, {"message": "Invalid API key"})
        status, data = await Api(session, url, weak).call(
            "PUT", "/tags/assets", {"tagIds": [], "assetIds": []}
        )
        assert (status, data) == (403, {"message": "Missing required permission: tag.asset"})
        status, _ = await Api(session, url, "bad").call("GET", "/server/version")
        assert status == 200


async def test_v2_shapes_and_visibility(scenario: Scenario) -> None:
    lib, a = scenario.lib, scenario.assets
    a[0].visibility = "archive"
    lib.add_album(scenario.me, "Mine", [a[1]])
    lib.add_album(scenario.other, "Shared", [], users=[(scenario.me, "viewer")])
    sim = Simulator(lib, version="2.7.3")
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        api = Api(session, url, scenario.key)
        _, data = await api.call("POST", "/search/metadata", {})
        assert isinstance(data, dict)
        assert len(data["assets"]["items"]) == 4  # v2: timeline only
        _, albums = await api.call("GET", "/albums")
        assert isinstance(albums, list)
        assert [x["albumName"] for x in albums] == ["Mine"]
        assert albums[0]["ownerId"] == scenario.me.id
        _, shared = await api.call("GET", "/albums", shared="true")
        assert isinstance(shared, list)
        assert [x["albumName"] for x in shared] == ["Shared"]
        _, one = await api.call("GET", f"/albums/{albums[0]['id']}")
        assert isinstance(one, dict)
        assert [x["id"] for x in one["assets"]] == [a[1].id]
        status, err = await api.call("POST", "/search/metadata", {"size": 0})
        assert status == 400
        assert isinstance(err, dict)
        assert err["statusCode"] == 400
        assert isinstance(err["message"], list)
        assert [v.split(":")[0] for v in sim.stats.violations] == ["POST /search/metadata"]
        sim.stats.violations.clear()  # the one this test provoked


async def test_v32_filter_cursor(scenario: Scenario) -> None:
    lib, a = scenario.lib, scenario.assets
    a[4].trashed = True
    sim = Simulator(lib, version="3.2.2")
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        api = Api(session, url, scenario.key)
        body: dict[str, Any] = {
            "filter": {"trashedAt": {"eq": None}},
            "orderBy": {"field": "fileCreatedAt", "direction": "asc"},
            "size": 3,
        }
        _, data = await api.call("POST", "/search/metadata", body)
        assert isinstance(data, dict)
        cursor = data["assets"]["nextCursor"]
        assert cursor
        _, data2 = await api.call("POST", "/search/metadata", body | {"cursor": cursor})
        assert isinstance(data2, dict)
        ids = [i["id"] for i in data["assets"]["items"] + data2["assets"]["items"]]
        assert ids == [x.id for x in a[:4]]
        assert data2["assets"]["nextCursor"] is None
        _, all_ = await api.call("POST", "/search/metadata", {"filter": {}, "size": 100})
        assert isinstance(all_, dict)
        assert len(all_["assets"]["items"]) == 5  # filter path includes trashed
        status, _ = await api.call("POST", "/search/metadata", {"filter": {}, "page": 1})
        assert status == 400
    assert_no_violations(sim)


async def test_faults(scenario: Scenario) -> None:
    sim = Simulator(scenario.lib, faults=Faults(fail_route="GET /tags"))
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        api = Api(session, url, scenario.key)
        status, _ = await api.call("GET", "/tags")
        assert status == 500
        sim.faults.fail_route = None
        sim.faults.rate_limit_per_s, sim.faults.rate_burst, sim.faults.retry_after_s = 0.001, 1, 2
        assert (await api.call("GET", "/tags"))[0] == 200
        async with session.get(f"{url}/api/tags", headers={"x-api-key": scenario.key}) as resp:
            assert resp.status == 429
            assert resp.headers["Retry-After"] == "2"
        sim.faults.rate_limit_per_s = None
        sim.faults.malformed_route = "GET /tags"
        async with session.get(f"{url}/api/tags", headers={"x-api-key": scenario.key}) as resp:
            assert resp.status == 200
            assert (await resp.text()).startswith('{"truncated"')
        sim.faults.malformed_route = None
        sim.faults.reset_rate = 1.0
        try:
            await api.call("GET", "/tags")
            raise AssertionError("expected a connection error")
        except aiohttp.ClientError:
            pass
        sim.faults.reset_rate = 0.0
        sim.faults.revoke_after = sim.stats.authenticated_requests + 1
        assert (await api.call("GET", "/tags"))[0] == 200
        assert (await api.call("GET", "/tags"))[0] == 401
        async with session.post(f"{url}/__sim/faults", json={"latency_ms": 5}) as resp:
            assert (await resp.json())["latency_ms"] == 5
        async with session.get(f"{url}/__sim/stats") as resp:
            stats = await resp.json()
            assert stats["requests"]["GET /tags"] >= 6
            assert stats["faultsInjected"]["429"] == 1


async def test_a_fault_streak_ends_per_request(scenario: Scenario) -> None:
    """With `streak_max`, each request meets at most that many error faults in a row."""
    sim = Simulator(scenario.lib, faults=Faults(error_rate=1.0, streak_max=2))
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        api = Api(session, url, scenario.key)
        first = {"page": 1, "size": 5}
        other = {"page": 2, "size": 5}
        seen = [(await api.call("POST", "/search/metadata", first))[0] for _ in range(3)]
        # another request (another body) has a streak of its own, and a success ends one
        seen += [(await api.call("POST", "/search/metadata", other))[0] for _ in range(3)]
        seen.append((await api.call("POST", "/search/metadata", first))[0])
        sim.faults.fail_route = "GET /tags"  # "always" stays always
        seen += [(await api.call("GET", "/tags"))[0] for _ in range(3)]
    assert seen == [500, 500, 200, 500, 500, 200, 500, 500, 500, 500]


async def test_concurrency_ceiling(scenario: Scenario) -> None:
    sim = Simulator(scenario.lib, faults=Faults(latency_ms=30, max_concurrency=2))
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        api = Api(session, url, scenario.key)
        results = await asyncio.gather(*(api.call("GET", "/tags") for _ in range(6)))
        assert [r[0] for r in results] == [200] * 6
    assert sim.stats.max_concurrency == 2


async def test_generator_deterministic_and_fast(tmp_path: Any) -> None:
    t0 = time.perf_counter()
    lib = generate_library(26_562, seed=1)
    gen_s = time.perf_counter() - t0
    again = generate_library(26_562, seed=1)
    assert list(lib.assets) == list(again.assets)
    assert lib.summary() == again.summary()
    sim = Simulator(lib)
    # 26 pages of 1,000 assets: checking each answer against the spec took ~90 % of this
    # test's time and adds nothing to the many smaller pages every other test checks.
    sim.check_responses = False
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        api = Api(session, url, generator_key(lib))
        t1 = time.perf_counter()
        page: Any = 1
        pages, ids = 0, set[str]()
        while page:
            _, data = await api.call(
                "POST",
                "/search/metadata",
                {"page": int(page), "size": 1000, "order": "asc", "withExif": True},
            )
            assert isinstance(data, dict)
            ids.update(i["id"] for i in data["assets"]["items"])
            page = data["assets"]["nextPage"]
            pages += 1
        walk_s = time.perf_counter() - t1
    print(f"\n26,562 assets: generate {gen_s:.2f}s, walk {pages} pages {walk_s:.2f}s")  # noqa: T201
    assert len(ids) == sum(
        1
        for x in lib.assets.values()
        if x.owner_id == lib.user_by_email("me@example.com").id and not x.trashed
    )
    assert 25 <= pages <= 27
    assert_no_violations(sim)
    path = tmp_path / "lib.json"
    save_library(lib, path)
    loaded = load_library(path)
    assert loaded.summary() == lib.summary()
