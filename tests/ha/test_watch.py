"""Run when new photos arrive, through Home Assistant with time fired forward: one small
request per check, the New photos sensor, a run once uploads settle, never during a run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from unittest.mock import PropertyMock, patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.immich_autotag.const import CONF_WATCH_INTERVAL, CONF_WATCH_SETTLE, DOMAIN
from custom_components.immich_autotag.engine import lease
from custom_components.immich_autotag.engine.lease import LEASE_PREFIX
from custom_components.immich_autotag.engine.report import RunStatus

from .conftest import SimServer, call_run, options, setup_integration, state_of, wait_idle

NEW = "sensor.immich_autotag_alice_new_photos"
STATISTICS = "POST /search/statistics"


@pytest.fixture(autouse=True)
def no_lease_confirm_wait() -> Iterator[None]:
    """The event loop's timers follow the frozen clock here: the lease's second look (a
    0.3 s timer) would wait for the test to move time, so it looks at once."""
    with patch.object(lease, "CONFIRM_AFTER", 0.0):
        yield


class Clock:
    """Home Assistant's time (frozen), moved and fired forward a minute at a time."""

    def __init__(self, freezer: FrozenDateTimeFactory) -> None:
        self.freezer = freezer

    async def minutes(
        self, hass: HomeAssistant, entry: MockConfigEntry, n: int, *, idle: bool = True
    ) -> None:
        for _ in range(n):
            self.freezer.tick(timedelta(minutes=1))
            async_fire_time_changed(hass)
            await hass.async_block_till_done()
            if idle:
                await wait_idle(hass, entry)


async def _watching(
    hass: HomeAssistant,
    sim_server: SimServer,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> Clock:
    """The entry set up checking every 5 minutes, runs once photos settle for 10; its clock."""
    sim_server.sim.metadata_delay_s = 0.05
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, options=options(**{CONF_WATCH_INTERVAL: 5, CONF_WATCH_SETTLE: 10})
    )
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return Clock(freezer)


async def test_new_photos_start_one_run_after_they_settle(
    hass: HomeAssistant,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    lib, sim = sim_server.lib, sim_server.sim
    clock = await _watching(hass, sim_server, mock_config_entry, freezer)
    await clock.minutes(hass, mock_config_entry, 6)
    assert state_of(hass, NEW) == "unknown"  # no run yet: nothing to count from
    assert sim.stats.requests[STATISTICS] == 0
    await call_run(hass)
    runs = len(mock_config_entry.runtime_data.coordinator.reports)
    await sim.metadata_settled()
    requests, checks = sim.stats.total, sim.stats.requests[STATISTICS]

    await clock.minutes(hass, mock_config_entry, 6)
    assert state_of(hass, NEW) == "0"
    # one small request per check (minutes 1 and 6), nothing else between runs
    assert (sim.stats.total - requests, sim.stats.requests[STATISTICS] - checks) == (2, 2)
    lib.tick()
    new = [
        lib.add_asset(sim_server.user, f"IMG_2024080{n}_101010.jpg", taken=datetime(2024, 8, n, 10))
        for n in range(1, 4)
    ]
    await clock.minutes(hass, mock_config_entry, 5)
    assert state_of(hass, NEW) == "3"
    await clock.minutes(hass, mock_config_entry, 5)
    assert len(mock_config_entry.runtime_data.coordinator.reports) == runs  # not settled yet
    lib.tick()
    late = lib.add_asset(sim_server.user, "IMG_20240810_101010.jpg", taken=datetime(2024, 8, 10))
    await clock.minutes(hass, mock_config_entry, 5)
    assert state_of(hass, NEW) == "4"  # the count changed: the wait starts again
    await clock.minutes(hass, mock_config_entry, 5)
    assert len(mock_config_entry.runtime_data.coordinator.reports) == runs
    await clock.minutes(hass, mock_config_entry, 6)
    reports = mock_config_entry.runtime_data.coordinator.reports
    assert len(reports) == runs + 1  # one run for the whole batch
    assert reports[-1].dry_run is False
    assert all("autotag_output_unknown" in lib.asset_tags(a.id) for a in [*new, late])
    assert state_of(hass, NEW) == "0"
    await clock.minutes(hass, mock_config_entry, 20)
    assert len(mock_config_entry.runtime_data.coordinator.reports) == runs + 1


async def test_off_by_default_and_no_check_during_a_run(
    hass: HomeAssistant,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_integration(hass, mock_config_entry)
    await call_run(hass)
    clock = Clock(freezer)
    checks = sim_server.sim.stats.requests[STATISTICS]
    await clock.minutes(hass, mock_config_entry, 30)
    assert sim_server.sim.stats.requests[STATISTICS] == checks  # watch_interval 0: off
    hass.config_entries.async_update_entry(
        mock_config_entry, options=options(**{CONF_WATCH_INTERVAL: 1})
    )
    coordinator = mock_config_entry.runtime_data.coordinator
    lib = sim_server.lib
    lib.tick()
    lib.add_asset(sim_server.user, "IMG_20240901_101010.jpg", taken=datetime(2024, 9, 1, 10))
    with patch.object(type(coordinator), "running", new_callable=PropertyMock) as running:
        running.return_value = True  # a run is in progress: no check, no run
        await clock.minutes(hass, mock_config_entry, 3, idle=False)
    assert sim_server.sim.stats.requests[STATISTICS] == checks
    await clock.minutes(hass, mock_config_entry, 1)  # the run is over: the next tick checks
    assert sim_server.sim.stats.requests[STATISTICS] == checks + 1
    assert state_of(hass, NEW) == "1"


async def test_a_failed_run_does_not_stop_the_watch(
    hass: HomeAssistant,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A run that failed before reading the library (the server answered garbage) leaves the
    watch counting from the last run that did read it, so new photos still start a run."""
    lib, sim = sim_server.lib, sim_server.sim
    sim.metadata_delay_s = 0.05
    await setup_integration(hass, mock_config_entry)
    await call_run(hass)
    await sim.metadata_settled()
    sim.faults.malformed_route = "GET /server/version"
    with pytest.raises(HomeAssistantError, match="malformed"):
        await call_run(hass)
    coordinator = mock_config_entry.runtime_data.coordinator
    assert coordinator.reports[-1].status.value == "failed"
    sim.faults.malformed_route = None
    hass.config_entries.async_update_entry(
        mock_config_entry, options=options(**{CONF_WATCH_INTERVAL: 1, CONF_WATCH_SETTLE: 2})
    )
    lib.tick()
    new = lib.add_asset(sim_server.user, "IMG_20240902_101010.jpg", taken=datetime(2024, 9, 2, 10))
    runs = len(coordinator.reports)
    clock = Clock(freezer)
    await clock.minutes(hass, mock_config_entry, 1)
    assert state_of(hass, NEW) == "1"
    await clock.minutes(hass, mock_config_entry, 4)
    assert len(coordinator.reports) == runs + 1
    assert coordinator.reports[-1].status.value == "success"
    assert "autotag_output_unknown" in lib.asset_tags(new.id)


async def test_a_revoked_key_found_by_the_watch_asks_for_a_new_one(
    hass: HomeAssistant,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """With the watch as the only trigger, a key revoked in Immich must not go unnoticed: the
    first check that gets 401 starts Home Assistant's re-authentication, once."""
    await setup_integration(hass, mock_config_entry)
    await call_run(hass)
    await sim_server.sim.metadata_settled()
    hass.config_entries.async_update_entry(
        mock_config_entry, options=options(**{CONF_WATCH_INTERVAL: 1})
    )
    for key in sim_server.lib.keys.values():
        key.revoked = True
    clock = Clock(freezer)
    await clock.minutes(hass, mock_config_entry, 3)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]


async def test_a_skipped_run_leaves_the_photos_new_and_is_retried_after_they_settle(
    hass: HomeAssistant,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Another run holds the lease: the watcher's run is skipped; it tries again a settle
    period later (not at every check), and the photos are handled once that run is over."""
    lib, sim = sim_server.lib, sim_server.sim
    clock = await _watching(hass, sim_server, mock_config_entry, freezer)
    assert await call_run(hass) is not None
    await sim.metadata_settled()
    coordinator = mock_config_entry.runtime_data.coordinator
    lib.tick()
    new = [
        lib.add_asset(sim_server.user, f"IMG_2024090{n}_101010.jpg", taken=datetime(2024, 9, n, 10))
        for n in range(1, 3)
    ]
    until = int(time.time()) + 3 * 3600  # the other run renews it while it works
    holder = lib.add_tag(sim_server.user, f"{LEASE_PREFIX}cli0run/until-{until}")
    lib.tick()
    runs = len(coordinator.reports)
    for _ in range(20):  # the photos settle, a run starts and is skipped
        await clock.minutes(hass, mock_config_entry, 1)
        if len(coordinator.reports) > runs:
            break
    assert [r.status for r in coordinator.reports][-1] is RunStatus.SKIPPED
    assert state_of(hass, NEW) == "2"  # still new: the skipped run handled nothing
    runs = len(coordinator.reports)
    await clock.minutes(hass, mock_config_entry, 10)
    assert len(coordinator.reports) == runs  # no retry at each check
    del lib.tags[holder.id]  # the other run ends and releases its lease
    del lib.tags[holder.parent_id or ""]
    await clock.minutes(hass, mock_config_entry, 10)
    assert len(coordinator.reports) == runs + 1
    assert [r.status for r in coordinator.reports][-1] is RunStatus.SUCCESS
    assert all("autotag_output_unknown" in lib.asset_tags(a.id) for a in new)
    assert state_of(hass, NEW) == "0"
