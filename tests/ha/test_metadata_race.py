"""Through Home Assistant, on a server whose metadata jobs reset tags after date writes.

Every supported API family: a run re-dates and tags photos, any tag Immich resets is
re-applied in the same run (the run-finished event says how many), and the next run writes
nothing.
"""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.immich_autotag.const import EVENT_RUN_FINISHED
from tests.sim import SimLibrary, SimUser
from tests.sim.library import MetadataJob
from tests.sim.server import assert_no_violations

from .conftest import SimServer, alice_library, call_run, setup_integration, state_of

UNKNOWN = "autotag_output_unknown"


@pytest.fixture
def sim_library() -> tuple[SimLibrary, SimUser, str]:
    """Alice's photos, whose file names carry earlier dates than their EXIF."""
    return alice_library(3, 2019, range(1, 7))


@pytest.mark.parametrize("sim_version", ["2.7.0", "3.0.3", "3.1.0", "3.2.2"])
async def test_tags_reset_by_immich_are_repaired_and_reported(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    lib = sim_server.lib
    sim_server.sim.metadata_delay_s = 0.2
    dropped: list[str] = []

    def lose_unknown_once(job: MetadataJob) -> None:  # Immich resets one photo's tag anyway
        if dropped or job.sidecar is None:
            return
        asset_id = next((a for a, tags in job.sidecar.items() if UNKNOWN in tags), None)
        if asset_id is not None:
            job.sidecar[asset_id] -= {UNKNOWN}
            dropped.append(asset_id)

    sim_server.sim.before_metadata_job = lose_unknown_once
    await setup_integration(hass, mock_config_entry)
    events = async_capture_events(hass, EVENT_RUN_FINISHED)
    done = await call_run(hass)
    assert done["status"] == "success", done
    changes = done["changes"]
    assert changes["date_set"] == 6
    assert dropped
    assert done["repaired_after_reread"] == 1
    assert events[-1].data["repaired_after_reread"] == 1
    attributes = hass.states.get("sensor.immich_autotag_alice_last_run")
    assert attributes is not None
    assert attributes.attributes["repaired_after_reread"] == 1
    assert all(UNKNOWN in lib.asset_tags(a) for a in lib.assets)  # the server shows them all
    assert all(lib.asset(a).local_date_time.year == 2019 for a in lib.assets)
    await sim_server.sim.metadata_settled()
    writes = sim_server.sim.stats.writes
    again = await call_run(hass)
    assert again["changes_total"] == 0, again
    assert sim_server.sim.stats.writes == writes  # run 2 is write-free (no lease either)
    assert state_of(hass, "sensor.immich_autotag_alice_assets") == "6"
    assert_no_violations(sim_server.sim)
