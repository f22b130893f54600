"""`immich_autotag.undo` through Home Assistant: run -> undo gives back the library as it was,
on every API family, with Immich's metadata race; dry run, later edits, errors."""

from __future__ import annotations

from datetime import datetime

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.immich_autotag.const import EVENT_RUN_FINISHED
from tests.sim import SimLibrary, SimUser
from tests.sim.server import assert_no_violations
from tests.sim.view import differences, view

from .conftest import SimServer, alice_library, call_action, call_run, setup_integration

ALICE = "alice@example.com"


@pytest.fixture
def sim_library() -> tuple[SimLibrary, SimUser, str]:
    """Alice's photos: file names with earlier dates than their EXIF, one in a dated album."""
    lib, alice, key = alice_library(3, 2019, range(1, 6))
    beach = lib.add_asset(alice, "DSC0001.jpg", taken=datetime(2024, 7, 15, 10))
    lib.add_album(alice, "2024-07-15 Beach", [beach])
    return lib, alice, key


@pytest.mark.parametrize("sim_version", ["2.7.0", "3.0.3", "3.1.0", "3.2.2"])
async def test_undo_last_run_restores_the_library(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    lib, sim = sim_server.lib, sim_server.sim
    sim.metadata_delay_s = 0.2  # Immich's re-extraction resets tags after a date write
    before = view(lib, ALICE)
    await setup_integration(hass, mock_config_entry)
    events = async_capture_events(hass, EVENT_RUN_FINISHED)
    done = await call_run(hass)
    assert done["status"] == "success", done
    changes = done["changes"]
    assert changes["date_set"] == 5
    assert changes["tag_add"] >= 5
    after_run = view(lib, ALICE)

    dry = await call_action(hass, "undo", dry_run=True)
    assert (dry["dry_run"], dry["undo_of"], dry["skipped"]) == (True, done["id"], [])
    assert dry["planned_changes_total"] == dry["changes_total"]
    assert dry["changes"]
    assert view(lib, ALICE) == after_run

    undone = await call_action(hass, "undo")
    assert undone["status"] == "success", undone
    assert undone["undo_of"] == done["id"]
    assert undone["skipped"] == []
    assert undone["skipped_total"] == 0
    assert undone["changes"] == dry["changes"]
    await sim.metadata_settled()
    assert differences(before, view(lib, ALICE)) == []
    assert events[-1].data["undo_of"] == done["id"]
    state = hass.states.get("sensor.immich_autotag_alice_last_run")
    assert state is not None
    assert state.attributes["undo_of"] == done["id"]

    redo = await call_action(
        hass, "undo", run_id=str(undone["id"])
    )  # undo the undo: the run's result
    assert redo["status"] == "success", redo
    await sim.metadata_settled()
    assert differences(after_run, view(lib, ALICE)) == []
    assert_no_violations(sim)


async def test_a_later_edit_is_kept_and_listed(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    lib = sim_server.lib
    sim_server.sim.metadata_delay_s = 0.05
    await setup_integration(hass, mock_config_entry)
    await call_run(hass)
    await sim_server.sim.metadata_settled()
    temp = next(a for a in lib.albums.values() if a.name.endswith("-autotag-temp-unclassified"))
    beach = next(a.id for a in lib.assets.values() if a.file_name == "DSC0001.jpg")
    temp.assets[beach] = None  # Alice files a photo there herself
    lib.tick()
    undone = await call_action(hass, "undo")
    assert undone["status"] == "success"
    skipped = undone["skipped"]
    assert isinstance(skipped, list)
    assert [(s["kind"], s["target"]) for s in skipped] == [("album_create", temp.name)]
    assert undone["skipped_total"] == 1
    assert set(temp.assets) == {beach}


async def test_an_unknown_run_or_an_empty_journal_is_a_clear_error(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    await setup_integration(hass, mock_config_entry)
    with pytest.raises(HomeAssistantError, match="no applied run"):
        await call_action(hass, "undo")
    await call_run(hass)
    writes = sim_server.sim.stats.writes
    with pytest.raises(HomeAssistantError, match="not in the journal"):
        await call_action(hass, "undo", run_id="0123456789abcdef")
    assert sim_server.sim.stats.writes == writes
