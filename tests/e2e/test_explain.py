"""Explain against the simulator: for every asset, the changes an explanation announces are
exactly those a dry run plans for it, in a handful of requests, on every API family."""

from __future__ import annotations

import aiohttp
import pytest

from custom_components.immich_autotag.engine.explain import explain_asset
from custom_components.immich_autotag.engine.explain_load import AssetRefError
from custom_components.immich_autotag.immich.client import ImmichClient
from tests.sim.server import Simulator, assert_no_violations

from .harness import run_once
from .test_all_phases import RULES, build

VERSIONS = ["2.7.0", "3.0.3", "3.1.0", "3.2.2"]


def _key(change: dict[str, object]) -> tuple[object, ...]:
    return (change["kind"], change.get("target"), change.get("new"))


@pytest.mark.parametrize("version", VERSIONS)
async def test_explanations_announce_what_the_run_plans(version: str) -> None:
    world = build()
    sim = Simulator(world.lib, version=version)
    async with sim.serve() as url:
        dry, _, _ = await run_once(sim, url, world.key, RULES, dry_run=True)
        async with aiohttp.ClientSession() as session:
            client = ImmichClient(session, url, world.key)
            writes = sim.stats.writes
            for name, asset_id in world.ids.items():
                if name == "alices":
                    continue
                out = await explain_asset(client, RULES, f"{url}/photos/{asset_id}")
                planned = [c for c in dry.planned_changes if c.get("asset_id") == asset_id]
                assert sorted(map(_key, out["changes"])) == sorted(map(_key, planned)), name
                assert out["requests"] <= 12, (name, out["requests"])  # never a snapshot
            assert sim.stats.writes == writes  # read-only
            whatsapp = await explain_asset(client, RULES, world.ids["whatsapp"])
            twin = await explain_asset(client, RULES, world.ids["twin"].upper())
            with pytest.raises(AssetRefError, match="not yours"):  # another user's photo
                await explain_asset(client, RULES, world.ids["alices"])
    assert whatsapp["date"]["decision"] == "set"
    assert whatsapp["date"]["chosen"] == "2019-05-12T00:00:00+02:00"
    assert whatsapp["status"] == "unclassified"
    assert whatsapp["temp_album"] == "2019-05-12-autotag-temp-unclassified"
    assert twin["duplicates"]["group"] is not None
    assert [m["albums"] for m in twin["duplicates"]["members"]] == [[], ["2021-06-01 Picnic"]]
    assert twin["status"] == "classified"
    assert [r["matched"] for r in twin["rules"]] == [False, True]
    assert_no_violations(sim)


async def test_bad_references_are_refused_before_any_request() -> None:
    world = build()
    sim = Simulator(world.lib)
    async with sim.serve() as url, aiohttp.ClientSession() as session:
        client = ImmichClient(session, url, world.key)
        with pytest.raises(AssetRefError, match="neither an asset id"):
            await explain_asset(client, RULES, "http://immich/photos/not-an-id")
        assert sim.stats.total == 0
        with pytest.raises(AssetRefError, match="not found"):
            await explain_asset(client, RULES, "00000000-0000-4000-8000-00000000abcd")
