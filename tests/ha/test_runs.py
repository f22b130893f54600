"""Runs through Home Assistant: services, progress, events, single flight, cancel, schedule."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Generator
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.immich_autotag.const import (
    CONF_MAX_CONCURRENCY,
    CONF_RULES,
    CONF_RUN_INTERVAL,
    DOMAIN,
    EVENT_RUN_FINISHED,
)
from custom_components.immich_autotag.engine.progress import Progress, RunPhase
from custom_components.immich_autotag.engine.report import ErrorKind, RunStatus

from .conftest import ENTRY_ID, SimServer, setup_integration
from .fake_runner import RUN, FakeRunner

ASSET = "1c0d6b1e-8b4f-4a4e-9d2c-3f5a6b7c8d9e"


@pytest.fixture
def fake_runner() -> Generator[FakeRunner]:
    runner = FakeRunner()
    with patch(RUN, runner):
        yield runner


@pytest.fixture
def no_throttle() -> Generator[None]:
    with patch("custom_components.immich_autotag.coordinator.PROGRESS_INTERVAL", 0):
        yield


@pytest.fixture
async def loaded_entry(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, fake_runner: FakeRunner
) -> MockConfigEntry:
    await setup_integration(hass, mock_config_entry)
    return mock_config_entry


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


async def _call_run(hass: HomeAssistant, **data: object) -> dict[str, object] | None:
    response = await hass.services.async_call(
        DOMAIN,
        "run",
        {"config_entry_id": ENTRY_ID, **data},
        blocking=True,
        return_response=True,
    )
    return dict(response) if response is not None else None


async def _wait_idle(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not entry.runtime_data.coordinator.running


@pytest.mark.usefixtures("loaded_entry", "no_throttle")
async def test_run_with_response(hass: HomeAssistant, fake_runner: FakeRunner) -> None:
    """The run service waits and returns the summary; sensors show the report."""
    events = async_capture_events(hass, EVENT_RUN_FINISHED)
    response = await _call_run(hass, asset_ids=[ASSET.upper(), ASSET])
    assert response is not None
    assert response["status"] == "success"
    assert response["dry_run"] is False
    assert response["changes_total"] == 6
    assert response["api_requests"] == 17
    assert "planned_changes" not in response
    assert fake_runner.calls[0]["asset_ids"] == [ASSET]
    assert fake_runner.calls[0]["dry_run"] is False

    await hass.async_block_till_done()
    assert len(events) == 1
    assert events[0].data["config_entry_id"] == ENTRY_ID
    assert events[0].data["status"] == "success"
    assert events[0].data["changes_total"] == 6
    assert events[0].data["errors_count"] == 0

    assert _state(hass, "sensor.alice_status") == "idle"
    assert _state(hass, "sensor.alice_progress") == "100.0"
    assert _state(hass, "binary_sensor.alice_running") == "off"
    assert _state(hass, "sensor.alice_assets") == "10"
    assert _state(hass, "sensor.alice_unclassified") == "3"
    assert _state(hass, "sensor.alice_conflicts") == "1"
    assert _state(hass, "sensor.alice_date_mismatches") == "2"
    assert _state(hass, "sensor.alice_duplicate_conflicts") == "1"
    assert _state(hass, "sensor.alice_last_run_changes") == "6"
    assert _state(hass, "sensor.alice_last_run_duration") == "2.5"
    assert _state(hass, "sensor.alice_last_run_api_requests") == "17"


@pytest.mark.usefixtures("loaded_entry")
async def test_dry_run_response(hass: HomeAssistant) -> None:
    response = await _call_run(hass, dry_run=True)
    assert response is not None
    assert response["dry_run"] is True
    assert response["planned_changes"] == [{"kind": "tag_add", "tag": "x", "asset_ids": ["a"]}]
    assert response["planned_changes_total"] == 6


@pytest.mark.usefixtures("no_throttle")
async def test_progress_states(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """Status goes loading -> planning -> applying -> idle; running on -> off."""
    statuses: list[str] = []
    running: list[str] = []

    @callback
    def _record(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        assert new is not None
        target = statuses if new.entity_id == "sensor.alice_status" else running
        if not target or target[-1] != new.state:
            target.append(new.state)

    unsub = async_track_state_change_event(
        hass, ["sensor.alice_status", "binary_sensor.alice_running"], _record
    )
    await hass.services.async_call(DOMAIN, "run", {"config_entry_id": ENTRY_ID}, blocking=True)
    await _wait_idle(hass, loaded_entry)
    unsub()
    assert statuses == ["loading", "planning", "applying", "idle"]
    assert running == ["on", "off"]


async def test_progress_throttled(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """Hundreds of progress ticks within a second make at most a couple of state writes."""
    fake_runner.ticks = 300
    changes: list[str] = []

    @callback
    def _record(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        assert new is not None
        changes.append(new.state)

    unsub = async_track_state_change_event(hass, ["sensor.alice_progress"], _record)
    await hass.services.async_call(DOMAIN, "run", {"config_entry_id": ENTRY_ID}, blocking=True)
    await _wait_idle(hass, loaded_entry)
    unsub()
    assert changes[-1] == "100.0"
    assert len(changes) <= 3


async def test_progress_from_worker_thread(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """The runner may report progress from an executor thread (planning)."""
    fake_runner.hold = asyncio.Event()
    coordinator = loaded_entry.runtime_data.coordinator
    coordinator.async_start_run()
    await fake_runner.started.wait()
    progress = Progress(RunPhase.PLANNING, 1, 2)
    with patch("custom_components.immich_autotag.coordinator.PROGRESS_INTERVAL", 0):
        thread = threading.Thread(target=coordinator._on_progress, args=(progress,))
        thread.start()
        await hass.async_add_executor_job(thread.join)
        await hass.async_block_till_done()
        assert _state(hass, "sensor.alice_status") == "planning"
    fake_runner.hold.set()
    await _wait_idle(hass, loaded_entry)


async def test_second_run_refused_and_cancel(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """While a run is in progress another is refused; cancel stops it at a safe point."""
    fake_runner.hold = asyncio.Event()
    events = async_capture_events(hass, EVENT_RUN_FINISHED)
    await hass.services.async_call(DOMAIN, "run", {"config_entry_id": ENTRY_ID}, blocking=True)
    await fake_runner.started.wait()
    assert _state(hass, "binary_sensor.alice_running") == "on"
    assert _state(hass, "sensor.alice_status") == "loading"

    with pytest.raises(ServiceValidationError, match="A run of Alice is already in progress"):
        await _call_run(hass, dry_run=True)
    with pytest.raises(ServiceValidationError, match="already in progress"):
        await hass.services.async_call(
            "button", "press", {"entity_id": "button.alice_run"}, blocking=True
        )

    await hass.services.async_call(DOMAIN, "cancel", {"config_entry_id": ENTRY_ID}, blocking=True)
    fake_runner.hold.set()
    await _wait_idle(hass, loaded_entry)
    assert len(fake_runner.calls) == 1
    assert events[0].data["status"] == "cancelled"
    assert _state(hass, "sensor.alice_status") == "idle"
    assert _state(hass, "binary_sensor.alice_running") == "off"

    with pytest.raises(ServiceValidationError, match="No run of Alice is in progress"):
        await hass.services.async_call(
            DOMAIN, "cancel", {"config_entry_id": ENTRY_ID}, blocking=True
        )


async def test_unload_during_run(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """Unloading cancels the run task; nothing lingers (verify_cleanup checks)."""
    fake_runner.hold = asyncio.Event()
    task = loaded_entry.runtime_data.coordinator.async_start_run()
    await fake_runner.started.wait()
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert task.cancelled()
    assert loaded_entry.state is ConfigEntryState.NOT_LOADED


async def test_service_waiting_when_entry_unloads(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """A caller waiting for the response gets a translated error, not a hang."""
    fake_runner.hold = asyncio.Event()
    call = hass.async_create_task(_call_run(hass))
    await fake_runner.started.wait()
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    with pytest.raises(HomeAssistantError, match="The run of Alice was interrupted"):
        await call


async def test_auth_failure_starts_reauth(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    fake_runner.status = RunStatus.FAILED
    fake_runner.error_kind = ErrorKind.AUTH
    with pytest.raises(HomeAssistantError, match="rejected the API key of Alice"):
        await _call_run(hass)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert _state(hass, "sensor.alice_status") == "failed"


async def test_failed_run(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """A failed run: translated error for the caller, status failed, counts kept."""
    await _call_run(hass)
    fake_runner.status = RunStatus.FAILED
    fake_runner.error_kind = ErrorKind.CONNECTION
    with pytest.raises(HomeAssistantError, match="The run of Alice failed: boom"):
        await _call_run(hass)
    assert _state(hass, "sensor.alice_status") == "failed"
    assert _state(hass, "sensor.alice_assets") == "10"  # from the last complete run
    assert hass.config_entries.flow.async_progress() == []


async def test_runner_crash_is_reported(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """Even an unexpected exception ends as a failed report and an event."""
    fake_runner.raise_error = RuntimeError("kaput")
    events = async_capture_events(hass, EVENT_RUN_FINISHED)
    with pytest.raises(HomeAssistantError, match="kaput"):
        await _call_run(hass)
    await hass.async_block_till_done()
    assert events[0].data["status"] == "failed"
    assert events[0].data["error_kind"] == "unknown"
    assert loaded_entry.runtime_data.coordinator.last_report is not None


async def test_button_starts_runs(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.alice_dry_run"}, blocking=True
    )
    await _wait_idle(hass, loaded_entry)
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.alice_run"}, blocking=True
    )
    await _wait_idle(hass, loaded_entry)
    assert [c["dry_run"] for c in fake_runner.calls] == [True, False]


@pytest.mark.usefixtures("loaded_entry")
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"config_entry_id": "nope"}, "No Immich AutoTag entry with id nope exists"),
        (
            {"config_entry_id": ENTRY_ID, "asset_ids": ["not-a-uuid"]},
            "not-a-uuid is not a valid asset ID",
        ),
        ({"config_entry_id": ENTRY_ID, "asset_ids": []}, "The list of asset IDs is empty"),
    ],
)
async def test_run_invalid_input(
    hass: HomeAssistant, fake_runner: FakeRunner, data: dict[str, object], message: str
) -> None:
    with pytest.raises(ServiceValidationError, match=message):
        await hass.services.async_call(DOMAIN, "run", data, blocking=True)
    assert fake_runner.calls == []


async def test_run_entry_not_loaded_or_other_domain(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    other = MockConfigEntry(domain="sun", entry_id="01JOTHERDOMAIN000000000000")
    other.add_to_hass(hass)
    with pytest.raises(ServiceValidationError, match="No Immich AutoTag entry"):
        await hass.services.async_call(
            DOMAIN, "cancel", {"config_entry_id": other.entry_id}, blocking=True
        )
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    with pytest.raises(ServiceValidationError, match="entry Alice is not loaded"):
        await hass.services.async_call(DOMAIN, "run", {"config_entry_id": ENTRY_ID}, blocking=True)
    assert fake_runner.calls == []


async def test_invalid_rules_refuse_runs(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    fake_runner: FakeRunner,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Invalid rules: the run is refused with the error and a repair issue; fixed, it runs."""
    issue_id = f"invalid_rules_{ENTRY_ID}"
    hass.config_entries.async_update_entry(loaded_entry, options={CONF_RULES: "bogus_key: 1\n"})
    with pytest.raises(
        ServiceValidationError, match=r"The rules of Alice are invalid: .*bogus_key"
    ):
        await _call_run(hass)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    assert fake_runner.calls == []

    hass.config_entries.async_update_entry(loaded_entry, options={CONF_RULES: ""})
    response = await _call_run(hass)
    assert response is not None
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_schedule(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    fake_runner: FakeRunner,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Automatic runs follow the interval in the options, read at every check (no reload)."""
    freezer.tick(timedelta(minutes=120))
    async_fire_time_changed(hass)
    await _wait_idle(hass, loaded_entry)
    assert fake_runner.calls == []  # interval 0 = off

    hass.config_entries.async_update_entry(loaded_entry, options={CONF_RUN_INTERVAL: 30})
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await _wait_idle(hass, loaded_entry)
    assert len(fake_runner.calls) == 1  # the last run was longer ago than the interval
    assert fake_runner.calls[0]["dry_run"] is False

    for _ in range(29):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await _wait_idle(hass, loaded_entry)
    assert len(fake_runner.calls) == 1
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await _wait_idle(hass, loaded_entry)
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
    await _wait_idle(hass, loaded_entry)
    assert fake_runner.calls == []
    assert "Automatic run of Alice skipped" in caplog.text


async def test_options_change_rebuilds_limiter(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """New request limits apply at the next run, without a reload."""
    coordinator = loaded_entry.runtime_data.coordinator
    first_client = coordinator.client
    await _call_run(hass)
    assert fake_runner.calls[0]["client"] is first_client
    hass.config_entries.async_update_entry(loaded_entry, options={CONF_MAX_CONCURRENCY: 2})
    await _call_run(hass)
    second_client = fake_runner.calls[1]["client"]
    assert second_client is not first_client
    assert coordinator.limiter is not None
    assert coordinator.limiter.max_concurrency == 2
    await _call_run(hass)
    assert fake_runner.calls[2]["client"] is second_client
    assert loaded_entry.state is ConfigEntryState.LOADED


async def test_reports_survive_restart(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """Reports are stored; after a reload the last-run sensors come back."""
    await _call_run(hass)
    fake_runner.status = RunStatus.FAILED
    with pytest.raises(HomeAssistantError):
        await _call_run(hass)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    coordinator = loaded_entry.runtime_data.coordinator
    assert [r.status for r in coordinator.reports] == [RunStatus.SUCCESS, RunStatus.FAILED]
    assert _state(hass, "sensor.alice_status") == "failed"
    assert _state(hass, "sensor.alice_assets") == "10"
    assert _state(hass, "sensor.alice_last_run_changes") == "6"


async def test_end_to_end_with_simulator(hass: HomeAssistant, sim_server: SimServer) -> None:
    """The real runner against the simulator: a dry run plans, a run applies, a rerun is empty."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Alice",
        unique_id=sim_server.user.id,
        entry_id=ENTRY_ID,
        data={CONF_URL: sim_server.url, CONF_API_KEY: sim_server.key, CONF_VERIFY_SSL: True},
    )
    await setup_integration(hass, entry)
    dry = await _call_run(hass, dry_run=True)
    assert dry is not None
    assert dry["status"] == "success", dry
    assert dry["planned_changes_total"] == dry["changes_total"]
    assert isinstance(dry["changes_total"], int)
    assert dry["changes_total"] > 0
    assert sim_server.sim.stats.writes == 0
    done = await _call_run(hass)
    assert done is not None
    assert done["status"] == "success", done
    assert sim_server.sim.stats.writes > 0
    again = await _call_run(hass)
    assert again is not None
    assert again["changes_total"] == 0, again
    assert _state(hass, "sensor.alice_assets") == "3"


async def test_throttled_progress_is_delivered_later(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """A tick inside the throttle window is not lost: it is pushed when the window ends."""
    fake_runner.hold = asyncio.Event()
    coordinator = loaded_entry.runtime_data.coordinator
    coordinator.async_start_run()
    await fake_runner.started.wait()
    coordinator._on_progress(Progress(RunPhase.PLANNING, 0, 1))
    await hass.async_block_till_done()
    assert _state(hass, "sensor.alice_status") == "loading"
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=2))
    await hass.async_block_till_done()
    assert _state(hass, "sensor.alice_status") == "planning"
    fake_runner.hold.set()
    await _wait_idle(hass, loaded_entry)


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
    assert _state(hass, "sensor.alice_last_run") == "2026-11-28T10:00:00+00:00"
