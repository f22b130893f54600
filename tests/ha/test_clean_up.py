"""`immich_autotag.clean_up` through Home Assistant against the simulator (issue 18.9)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.immich_autotag.storage import journal_path
from tests.e2e.harness import RouteHandler, wrap_route

from .conftest import ENTRY_ID, SimServer, call_action, call_run, setup_integration

TEMP = "-autotag-temp-unclassified"


async def test_clean_up_dry_run_first_then_delete(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    """A run tags and files; the clean-up lists, then deletes, only what the tool made."""
    lib, alice = sim_server.lib, sim_server.user
    bob = lib.add_user("bob@example.com", "Bob")
    others = lib.add_album(bob, f"2019-01-02{TEMP}")  # empty, but Bob's: never touched
    mine = lib.add_album(alice, "Holiday")  # an album the user made, empty: kept
    await setup_integration(hass, mock_config_entry)
    done = await call_run(hass)
    assert done["status"] == "success"
    unknown = lib.tag_by_value(alice, "autotag_output_unknown")
    assert unknown is not None
    assert len(unknown.assets) == 3
    temp_albums = {a.id for a in lib.albums.values() if a.name.endswith(TEMP) and a.assets}
    assert len(temp_albums) == 3
    empty = lib.add_album(alice, f"2019-01-01{TEMP}")  # emptied by hand after the run
    writes = sim_server.sim.stats.writes

    planned = await call_action(hass, "clean_up")  # dry run by default
    assert sim_server.sim.stats.writes == writes
    assert planned["dry_run"] is True
    assert planned["changes"] == {"tag_remove": 3, "tag_delete": 1, "album_delete": 1}
    items = planned["planned"]
    assert isinstance(items, list)
    assert [(i["kind"], i["target"]) for i in items] == [
        ("tag_delete", "autotag_output_unknown"),
        ("album_delete", f"2019-01-01{TEMP}"),
    ]
    assert items[0]["assets"] == 3
    assert items[0]["url"].endswith("/tags?path=autotag_output_unknown")

    applied = await call_action(hass, "clean_up", dry_run=False)
    assert applied["changes"] == {"tag_remove": 3, "tag_delete": 1, "album_delete": 1}
    assert lib.tag_by_value(alice, "autotag_output_unknown") is None
    assert empty.id not in lib.albums
    assert others.id in lib.albums
    assert mine.id in lib.albums
    assert temp_albums <= set(lib.albums)  # temp albums holding photos stay
    assert len(lib.assets) == 3  # photos are never deleted
    lines = [json.loads(x) for x in journal_path(hass, ENTRY_ID).read_text().splitlines()]
    cleanup = [x for x in lines if x.get("action") == "clean_up"]
    assert len(cleanup) == 1
    run_id = cleanup[0]["run"]
    kinds = [(x["kind"], len(x["ids"])) for x in lines if x.get("run") == run_id and "kind" in x]
    assert kinds == [("tag_remove", 3), ("tag_delete", 0), ("album_delete", 0)]

    again = await call_action(hass, "clean_up", dry_run=False)
    assert again["changes"] == {}


@pytest.mark.usefixtures("fake_runner")
async def test_clean_up_refused_with_invalid_rules(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(mock_config_entry, options={"rules": "bogus: [1"})
    await setup_integration(hass, mock_config_entry)
    with pytest.raises(ServiceValidationError, match="The rules of Alice are invalid"):
        await call_action(hass, "clean_up")


async def test_no_run_starts_while_a_clean_up_is_applied(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    """A clean-up is the entry's one job like a run: a run asked for meanwhile (an automation,
    the schedule, new photos) is refused, and a run after it is accepted."""
    await setup_integration(hass, mock_config_entry)
    await call_run(hass)
    inside, release = asyncio.Event(), asyncio.Event()

    def hold(handler: RouteHandler) -> RouteHandler:
        async def held(request: web.Request, route: dict[str, Any]) -> web.StreamResponse:
            inside.set()
            await release.wait()
            return await handler(request, route)

        return held

    wrap_route(sim_server.sim, "DELETE /tags/{id}/assets", hold)
    clean_up = asyncio.ensure_future(call_action(hass, "clean_up", dry_run=False))
    coordinator = mock_config_entry.runtime_data.coordinator
    try:
        await asyncio.wait_for(inside.wait(), 10)
        assert coordinator.running
        with pytest.raises(ServiceValidationError, match="already"):
            await call_run(hass)
        with pytest.raises(ServiceValidationError, match="already"):
            await call_action(hass, "clean_up", dry_run=False)
    finally:
        release.set()
    applied = await clean_up
    assert applied["changes"]["tag_delete"] == 1
    assert not coordinator.running
    assert (await call_run(hass))["status"] == "success"
