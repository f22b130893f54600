"""The entry's journal through Home Assistant: unloading mid-run loses no applied change, and a
journal that cannot be written stops the run before anything is sent."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.immich_autotag.const import DOMAIN
from custom_components.immich_autotag.storage import journal_path
from tests.journal_audit import assert_journaled, changes, picture, read_lines
from tests.sim.generator import generate_library, generator_key
from tests.sim.library import SimLibrary
from tests.sim.records import SimUser

from .conftest import ENTRY_ID, SimServer, call_run, setup_integration


@pytest.fixture
def sim_library() -> tuple[SimLibrary, SimUser, str]:
    """A generated library: enough writes that a run can be stopped in the middle."""
    lib = generate_library(400, seed=3)
    return lib, lib.user_by_email("me@example.com"), generator_key(lib)


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(30):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


def _ended(hass: HomeAssistant) -> bool:
    path = journal_path(hass, ENTRY_ID)
    if not path.exists() or not path.read_text():
        return False
    return "end" in json.loads(path.read_text().splitlines()[-1])


@pytest.mark.parametrize(
    ("after_writes", "stop"), [(3, "unload"), (15, "unload"), (10, "shutdown")]
)
async def test_unloading_or_stopping_mid_apply_leaves_every_applied_change_journaled(
    hass: HomeAssistant,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    after_writes: int,
    stop: str,
) -> None:
    await setup_integration(hass, mock_config_entry)
    before = picture(sim_server.lib)
    sim_server.sim.faults.latency_ms = 30
    mock_config_entry.runtime_data.coordinator.async_start_run()
    await _until(lambda: sim_server.sim.stats.writes >= after_writes)
    if stop == "unload":
        assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
        await hass.async_block_till_done()
    else:  # Home Assistant stopping cancels the entry's background tasks the same way
        await hass.async_stop(force=True)
    await _until(lambda: sim_server.sim.stats.in_flight == 0)  # abandoned requests finish
    await _until(lambda: _ended(hass))  # the writer thread drains after the task is gone
    await _until(lambda: not any(t.name.startswith("journal ") for t in threading.enumerate()))
    after = picture(sim_server.lib)
    assert changes(before, after)
    lines = read_lines(journal_path(hass, ENTRY_ID))
    assert_journaled(before, after, lines)
    assert lines[-1]["end"] == "interrupted"


async def test_an_unwritable_journal_stops_the_run_before_any_write(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    await setup_integration(hass, mock_config_entry)
    path = journal_path(hass, ENTRY_ID)
    assert path == Path(hass.config.config_dir, ".storage", f"{DOMAIN}.{ENTRY_ID}.journal.jsonl")
    assert not path.exists()  # each test has its own configuration folder (tests/ha/conftest.py)
    await hass.async_add_executor_job(lambda: path.mkdir(parents=True))  # a folder, not a file
    requests = sim_server.sim.stats.total
    with pytest.raises(HomeAssistantError, match="journal"):
        await call_run(hass)
    assert sim_server.sim.stats.total == requests  # nothing sent, not even a read
    report = mock_config_entry.runtime_data.coordinator.last_report
    assert report is not None
    assert report.error_kind == "journal"
    dry = await call_run(hass, dry_run=True)  # a dry run writes no journal: it still works
    assert dry["status"] == "success"
