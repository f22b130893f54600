"""The simulator's model of a real server's date/tag race (measured on Immich v3.1).

A date write queues a metadata re-extraction that, after `metadata_delay_s`, moves
`fileCreatedAt`/`localDateTime` and resets the asset's tags to those it had at the write.
"""

from __future__ import annotations

import asyncio

import aiohttp

from tests.sim import Simulator

from .conftest import Api, Scenario

DATE = "2019-07-14T18:30:00.000+02:00"


async def _tag(api: Api, value: str, asset_ids: list[str]) -> str:
    status, tags = await api.call("PUT", "/tags", {"tags": [value]})
    assert status == 200
    assert isinstance(tags, list)
    tag_id: str = tags[0]["id"]
    status, _ = await api.call("PUT", "/tags/assets", {"tagIds": [tag_id], "assetIds": asset_ids})
    assert status == 200
    return tag_id


async def test_tags_written_after_a_date_are_reset_by_the_reextraction(
    scenario: Scenario,
) -> None:
    lib = scenario.lib
    first, second, third = (a.id for a in scenario.assets[:3])
    sim = Simulator(lib, version="3.1.0", metadata_delay_s=0.2)
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        api = Api(session, url, scenario.key)
        await _tag(api, "before", [first])  # in the sidecar: kept
        old = await _tag(api, "old", [third])
        status, _ = await api.call(
            "PUT", "/assets", {"ids": [first, third], "dateTimeOriginal": DATE}
        )
        assert status == 204
        await _tag(api, "after", [first, second])  # between the write and the re-extraction
        status, _ = await api.call("DELETE", f"/tags/{old}/assets", {"ids": [third]})
        assert status == 200
        assert lib.asset_tags(first) == {"before", "after"}
        before = lib.asset(first).file_created_ms
        await asyncio.sleep(0.3)
    assert lib.asset(first).file_created_ms != before  # the dates moved
    assert lib.asset_tags(first) == {"before"}  # the tag added after the date write is gone
    assert lib.asset_tags(second) == {"after"}  # no date write: nothing reset
    assert lib.asset_tags(third) == {"old"}  # a removal after the date write is undone
    assert lib.tags_reset == 2


async def test_tags_written_before_the_date_survive(scenario: Scenario) -> None:
    lib = scenario.lib
    ids = [a.id for a in scenario.assets]
    sim = Simulator(lib, version="3.1.0", metadata_delay_s=0.05)
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        api = Api(session, url, scenario.key)
        await _tag(api, "kept", ids)
        status, _ = await api.call("PUT", "/assets", {"ids": ids, "dateTimeOriginal": DATE})
        assert status == 204
        await sim.metadata_settled()
    assert all(lib.asset_tags(i) == {"kept"} for i in ids)
    assert lib.tags_reset == 0
    assert lib.summary()["metadataJobs"] == 0


async def test_race_model_can_be_switched_off(scenario: Scenario) -> None:
    lib = scenario.lib
    asset = scenario.assets[0].id
    sim = Simulator(lib, metadata_delay_s=0.05, metadata_resets_tags=False)
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        api = Api(session, url, scenario.key)
        status, _ = await api.call("PUT", "/assets", {"ids": [asset], "dateTimeOriginal": DATE})
        assert status == 204
        await _tag(api, "late", [asset])
        await sim.metadata_settled()
    assert lib.asset_tags(asset) == {"late"}
    assert lib.asset(asset).local_date_time.isoformat() == "2019-07-14T18:30:00"


async def test_a_deleted_tag_comes_back_from_the_sidecar(scenario: Scenario) -> None:
    lib = scenario.lib
    asset = scenario.assets[0].id
    sim = Simulator(lib, metadata_delay_s=0.05)
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        api = Api(session, url, scenario.key)
        tag_id = await _tag(api, "family/trip", [asset])
        status, _ = await api.call("PUT", "/assets", {"ids": [asset], "dateTimeOriginal": DATE})
        assert status == 204
        status, _ = await api.call("DELETE", f"/tags/{tag_id}")
        assert status == 204
        await sim.metadata_settled()
    assert lib.asset_tags(asset) == {"family/trip"}  # re-created by value, like Immich does
