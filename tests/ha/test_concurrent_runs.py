"""Through Home Assistant: a run that finds another run working on the account is skipped.

Home Assistant and the headless runner on one Immich account: the run that does not hold the
lease (a tool-owned tag, `engine/lease.py`) writes nothing and says so — a `skipped` status in
the response, the run-finished event and the result sensor, never an error.
"""

from __future__ import annotations

import time

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.immich_autotag.const import EVENT_RUN_FINISHED
from custom_components.immich_autotag.engine.lease import LEASE_PREFIX
from tests.sim.server import assert_no_violations

from .conftest import SimServer, call_run, setup_integration, state_of


async def test_a_run_while_another_holds_the_lease_is_skipped(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    lib = sim_server.lib
    holder = lib.add_tag(sim_server.user, f"{LEASE_PREFIX}cli0run/until-{int(time.time()) + 240}")
    lib.tick()  # the simulator's clock is logical: the next run's lease is younger
    await setup_integration(hass, mock_config_entry)
    events = async_capture_events(hass, EVENT_RUN_FINISHED)
    tags_before = {t.value for t in lib.tags.values()}
    skipped = await call_run(hass)
    assert skipped is not None
    assert skipped["status"] == "skipped"
    assert not skipped["changes_total"]
    assert events[-1].data["status"] == "skipped"
    assert state_of(hass, "sensor.immich_autotag_alice_last_run_result") == "skipped"
    assert {t.value for t in lib.tags.values()} == tags_before  # its own lease is gone
    assert all(not lib.asset_tags(a) for a in lib.assets)  # nothing written

    del lib.tags[holder.id]  # the CLI run ends and releases its lease
    del lib.tags[holder.parent_id or ""]
    done = await call_run(hass)
    assert done is not None
    assert done["status"] == "success"
    assert done["changes_total"]
    assert_no_violations(sim_server.sim)
