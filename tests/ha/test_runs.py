"""Runs through Home Assistant: services, progress, events, single flight, cancel, errors."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
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
    CONF_RULES,
    DOMAIN,
    EVENT_RUN_FINISHED,
)
from custom_components.immich_autotag.engine.progress import Progress, RunPhase
from custom_components.immich_autotag.engine.report import ErrorKind, RunStatus

from .conftest import ENTRY_ID, call_run, state_of, wait_idle
from .fake_runner import FakeRunner

ASSET = "1c0d6b1e-8b4f-4a4e-9d2c-3f5a6b7c8d9e"


@pytest.mark.usefixtures("loaded_entry", "no_throttle")
async def test_run_with_response(hass: HomeAssistant, fake_runner: FakeRunner) -> None:
    """The run service waits and returns the summary; sensors show the report."""
    events = async_capture_events(hass, EVENT_RUN_FINISHED)
    response = await call_run(hass, asset_ids=[ASSET.upper(), ASSET])
    assert response["status"] == "success"
    assert response["dry_run"] is False
    assert response["changes_total"] == 6
    assert response["api_requests"] == 17
    assert "planned_changes" not in response
    assert fake_runner.calls[0]["asset_ids"] == [ASSET]
    assert fake_runner.calls[0]["dry_run"] is False
    assert fake_runner.calls[0]["migrate_outputs"] is False

    await hass.async_block_till_done()
    assert len(events) == 1
    assert events[0].data["config_entry_id"] == ENTRY_ID
    assert events[0].data["status"] == "success"
    assert events[0].data["changes_total"] == 6
    assert events[0].data["errors_count"] == 0

    assert state_of(hass, "sensor.immich_autotag_alice_status") == "idle"
    assert state_of(hass, "sensor.immich_autotag_alice_progress") == "100.0"
    assert state_of(hass, "binary_sensor.immich_autotag_alice_running") == "off"
    assert state_of(hass, "sensor.immich_autotag_alice_assets") == "10"
    assert state_of(hass, "sensor.immich_autotag_alice_unclassified") == "3"
    assert state_of(hass, "sensor.immich_autotag_alice_conflicts") == "1"
    assert state_of(hass, "sensor.immich_autotag_alice_date_mismatches") == "2"
    assert state_of(hass, "sensor.immich_autotag_alice_duplicate_conflicts") == "1"
    assert state_of(hass, "sensor.immich_autotag_alice_last_run_changes") == "6"
    assert state_of(hass, "sensor.immich_autotag_alice_last_run_duration") == "2.5"
    assert state_of(hass, "sensor.immich_autotag_alice_last_run_api_requests") == "17"


@pytest.mark.usefixtures("loaded_entry")
async def test_dry_run_response(hass: HomeAssistant) -> None:
    response = await call_run(hass, dry_run=True)
    assert response["dry_run"] is True
    changes = response["planned_changes"]
    assert isinstance(changes, list)
    assert [(c["kind"], c["target"], c["file_name"]) for c in changes] == [
        *[("tag_add", "x", f"IMG_{n:04d}.jpg") for n in range(4)],
        *[("album_add", "Trip", f"IMG_{n:04d}.jpg") for n in range(2)],
    ]
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
        target = statuses if new.entity_id == "sensor.immich_autotag_alice_status" else running
        if not target or target[-1] != new.state:
            target.append(new.state)

    unsub = async_track_state_change_event(
        hass,
        ["sensor.immich_autotag_alice_status", "binary_sensor.immich_autotag_alice_running"],
        _record,
    )
    await hass.services.async_call(DOMAIN, "run", {"config_entry_id": ENTRY_ID}, blocking=True)
    await wait_idle(hass, loaded_entry)
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

    unsub = async_track_state_change_event(hass, ["sensor.immich_autotag_alice_progress"], _record)
    await hass.services.async_call(DOMAIN, "run", {"config_entry_id": ENTRY_ID}, blocking=True)
    await wait_idle(hass, loaded_entry)
    unsub()
    assert changes[-1] == "100.0"
    assert len(changes) <= 3


async def test_second_run_refused_and_cancel(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """While a run is in progress another is refused; cancel stops it at a safe point."""
    fake_runner.hold = asyncio.Event()
    events = async_capture_events(hass, EVENT_RUN_FINISHED)
    await hass.services.async_call(DOMAIN, "run", {"config_entry_id": ENTRY_ID}, blocking=True)
    await fake_runner.started.wait()
    assert state_of(hass, "binary_sensor.immich_autotag_alice_running") == "on"
    assert state_of(hass, "sensor.immich_autotag_alice_status") == "loading"

    with pytest.raises(ServiceValidationError, match="A run of Alice is already in progress"):
        await call_run(hass, dry_run=True)
    with pytest.raises(ServiceValidationError, match="already in progress"):
        await hass.services.async_call(
            "button", "press", {"entity_id": "button.immich_autotag_alice_run"}, blocking=True
        )

    await hass.services.async_call(DOMAIN, "cancel", {"config_entry_id": ENTRY_ID}, blocking=True)
    fake_runner.hold.set()
    await wait_idle(hass, loaded_entry)
    assert len(fake_runner.calls) == 1
    assert events[0].data["status"] == "cancelled"
    assert state_of(hass, "sensor.immich_autotag_alice_status") == "idle"
    assert state_of(hass, "binary_sensor.immich_autotag_alice_running") == "off"

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
    call = hass.async_create_task(call_run(hass))
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
        await call_run(hass)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress()
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert state_of(hass, "sensor.immich_autotag_alice_status") == "failed"


async def test_failed_run(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """A failed run: translated error for the caller, status failed, counts kept."""
    await call_run(hass)
    fake_runner.status = RunStatus.FAILED
    fake_runner.error_kind = ErrorKind.CONNECTION
    with pytest.raises(HomeAssistantError, match="The run of Alice failed: boom"):
        await call_run(hass)
    assert state_of(hass, "sensor.immich_autotag_alice_status") == "failed"
    assert (
        state_of(hass, "sensor.immich_autotag_alice_assets") == "10"
    )  # from the last complete run
    assert hass.config_entries.flow.async_progress() == []


async def test_runner_crash_is_reported(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """Even an unexpected exception ends as a failed report and an event."""
    fake_runner.raise_error = RuntimeError("kaput")
    events = async_capture_events(hass, EVENT_RUN_FINISHED)
    with pytest.raises(HomeAssistantError, match="kaput"):
        await call_run(hass)
    await hass.async_block_till_done()
    assert events[0].data["status"] == "failed"
    assert events[0].data["error_kind"] == "unknown"
    assert loaded_entry.runtime_data.coordinator.last_report is not None


async def test_button_starts_runs(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.immich_autotag_alice_dry_run"}, blocking=True
    )
    await wait_idle(hass, loaded_entry)
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.immich_autotag_alice_run"}, blocking=True
    )
    await wait_idle(hass, loaded_entry)
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
        *(  # what uuid.UUID accepts but is no asset id: refused as headless --asset-id does
            ({"config_entry_id": ENTRY_ID, "asset_ids": [bad]}, "is not a valid asset ID")
            for bad in ("{" + ASSET + "}", "urn:uuid:" + ASSET, ASSET.replace("-", ""))
        ),
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
        await call_run(hass)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    assert fake_runner.calls == []

    hass.config_entries.async_update_entry(loaded_entry, options={CONF_RULES: ""})
    await call_run(hass)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_throttled_progress_is_delivered_later(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, fake_runner: FakeRunner
) -> None:
    """A tick inside the throttle window is not lost: it is pushed when the window ends."""
    fake_runner.hold = asyncio.Event()
    coordinator = loaded_entry.runtime_data.coordinator
    coordinator.async_start_run()
    await fake_runner.started.wait()
    coordinator._async_on_progress(Progress(RunPhase.PLANNING, 0, 1))
    await hass.async_block_till_done()
    assert state_of(hass, "sensor.immich_autotag_alice_status") == "loading"
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=2))
    await hass.async_block_till_done()
    assert state_of(hass, "sensor.immich_autotag_alice_status") == "planning"
    fake_runner.hold.set()
    await wait_idle(hass, loaded_entry)
