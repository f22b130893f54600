"""Automatic runs on a schedule, option changes, and reports kept across restarts."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.immich_autotag.const import (
    CONF_MAX_CONCURRENCY,
    CONF_RULES,
    CONF_RUN_INTERVAL,
    DOMAIN,
)
from custom_components.immich_autotag.engine.album_cache import AlbumCache
from custom_components.immich_autotag.engine.report import RunStatus

from .conftest import ENTRY_ID, call_run, setup_integration, state_of, wait_idle
from .fake_runner import FakeRunner


async def test_schedule(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    fake_runner: FakeRunner,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Automatic runs follow the interval in the options, read at every check (no reload)."""
    freezer.tick(timedelta(minutes=120))
    async_fire_time_changed(hass)
    await wait_idle(hass, loaded_entry)
    assert fake_runner.calls == []  # interval 0 = off

    hass.config_entries.async_update_entry(loaded_entry, options={CONF_RUN_INTERVAL: 30})
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await wait_idle(hass, loaded_entry)
    assert len(fake_runner.calls) == 1  # the last run was longer ago than the interval
    assert fake_runner.calls[0]["dry_run"] is False

    for _ in range(29):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await wait_idle(hass, loaded_entry)
    assert len(fake_runner.calls) == 1
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await wait_idle(hass, loaded_entry)
    assert len(fake_runner.calls) == 2


async def test_schedule_skips_invalid_rules(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    fake_runner: FakeRunner,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hass.config_entries.async_update_entry(
        loaded_entry, options={CONF_RUN_INTERVAL: 5, CONF_RULES: "bogus_key: 1\n"}
    )
    freezer.tick(timedelta(minutes=6))
    async_fire_time_changed(hass)
    await wait_idle(hass, loaded_entry)
    assert fake_runner.calls == []
    assert "Automatic run of Alice skipped" in caplog.text


async def test_options_change_rebuilds_limiter(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """New request limits apply at the next run, without a reload."""
    connection = loaded_entry.runtime_data.coordinator.connection
    first_client = connection.client
    await call_run(hass)
    assert fake_runner.calls[0]["client"] is first_client
    hass.config_entries.async_update_entry(loaded_entry, options={CONF_MAX_CONCURRENCY: 2})
    await call_run(hass)
    second_client = fake_runner.calls[1]["client"]
    assert second_client is not first_client
    assert connection.limiter.max_concurrency == 2
    await call_run(hass)
    assert fake_runner.calls[2]["client"] is second_client
    assert loaded_entry.state is ConfigEntryState.LOADED


async def test_reports_survive_restart(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """Reports are stored; after a reload the last-run sensors come back."""
    await call_run(hass)
    fake_runner.status = RunStatus.FAILED
    with pytest.raises(HomeAssistantError):
        await call_run(hass)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    coordinator = loaded_entry.runtime_data.coordinator
    assert [r.status for r in coordinator.reports] == [RunStatus.SUCCESS, RunStatus.FAILED]
    assert state_of(hass, "sensor.immich_autotag_alice_status") == "failed"
    assert state_of(hass, "sensor.immich_autotag_alice_assets") == "10"
    assert state_of(hass, "sensor.immich_autotag_alice_last_run_changes") == "6"


async def test_unreadable_stored_reports_are_skipped(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    fake_runner: FakeRunner,
    hass_storage: dict[str, Any],
) -> None:
    good = {"id": "r1", "started_at": "2026-11-28T10:00:00+00:00", "dry_run": False}
    hass_storage[f"{DOMAIN}.{ENTRY_ID}.reports"] = {
        "version": 1,
        "key": f"{DOMAIN}.{ENTRY_ID}.reports",
        "data": {"reports": [{"started_at": "not a date"}, good]},
    }
    await setup_integration(hass, mock_config_entry)
    reports = mock_config_entry.runtime_data.coordinator.reports
    assert [r.id for r in reports] == ["r1"]
    assert state_of(hass, "sensor.immich_autotag_alice_last_run") == "2026-11-28T10:00:00+00:00"


async def test_album_cache_is_rebuilt_off_the_event_loop(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    fake_runner: FakeRunner,
    hass_storage: dict[str, Any],
) -> None:
    """Rebuilding a large stored cache (a million ids) would hold the loop: an executor does it."""
    members = [f"asset-{n}" for n in range(1000)]
    scope = {"albums": {"album-1": ["2026-01-01T00:00:00.000Z", len(members), members]}}
    key = f"{DOMAIN}.{ENTRY_ID}.album_cache"
    hass_storage[key] = {
        "version": 1,
        "key": key,
        "data": {"version": 2, "scopes": {"http://immich|user|v3.0": scope}},
    }
    threads: list[int] = []
    real = AlbumCache.from_dict

    def spy(data: Any) -> AlbumCache:
        threads.append(threading.get_ident())
        return real(data)

    with patch.object(AlbumCache, "from_dict", new=spy):  # a function: mocks run inline
        await setup_integration(hass, mock_config_entry)
    assert threads
    assert hass.loop_thread_id not in threads
    assert len(mock_config_entry.runtime_data.coordinator.album_cache) == 1
    assert fake_runner.calls == []
