"""Home Assistant and the headless runner start a run on one Immich account at the same moment.

The simulator holds each run's first lease request (`PUT /tags` of `autotag_run_lease_…`)
until both have arrived, so both leases exist when each run looks: the hardest case. One run
works, the other is skipped having written nothing but its own lease (deleted); no album is
created twice and no lease is left behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.immich_autotag.const import CONF_RULES
from tests.e2e.command import headless
from tests.reliability.test_concurrent_runs import FOLDERS, LeaseBarrier, doubled_albums, leases
from tests.sim.library import SimLibrary
from tests.sim.records import SimUser
from tests.sim.server import Simulator, assert_no_violations

from .conftest import SimServer, call_run, options, setup_integration


@pytest.fixture
def sim_library() -> tuple[SimLibrary, SimUser, str]:
    """Alice's photos in folders the rules make albums of (each album made once)."""
    lib = SimLibrary(seed=7)
    alice = lib.add_user("alice@example.com", "Alice")
    key = lib.add_api_key(alice, permissions={"all"})
    for day in range(1, 9):
        lib.add_asset(
            alice,
            f"IMG_202407{day:02d}_101010.jpg",
            f"/photos/2024-07-{day:02d} Trip/IMG_202407{day:02d}_101010.jpg",
            taken=datetime(2024, 7, day, 10),
        )
    return lib, alice, key


@pytest.fixture
async def sim_server(
    loopback: None, sim_library: tuple[SimLibrary, SimUser, str], sim_version: str
) -> AsyncIterator[SimServer]:
    """The simulator with the lease barrier."""
    lib, user, key = sim_library
    sim = Simulator(lib, version=sim_version, metadata_delay_s=0.05)
    sim.app.middlewares.append(LeaseBarrier().middleware)
    async with sim.serve() as url:
        yield SimServer(sim, lib, url, user, key)


async def test_home_assistant_and_the_cli_at_once(
    hass: HomeAssistant,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    tmp_path: Path,
) -> None:
    lib = sim_server.lib
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options=options(**{CONF_RULES: FOLDERS})
    )
    await setup_integration(hass, mock_config_entry)
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(FOLDERS)
    cli = ("--url", sim_server.url, "--api-key", sim_server.key, "--rules", str(rules_file))
    (code, out, err), ha = await asyncio.gather(
        headless(*cli, "--no-cache", home=tmp_path), call_run(hass)
    )
    assert ha is not None
    assert sorted([code, 0 if ha["status"] == "success" else 5]) == [0, 5], (code, ha, err)
    if code == 5:  # the CLI was skipped
        assert ": skipped" in out
        assert ha["changes_total"]
    else:
        assert ha["status"] == "skipped"
        assert not ha["changes_total"]
    assert doubled_albums(lib) == []
    assert {a.name for a in lib.albums.values()} >= {f"2024-07-0{d} Trip" for d in range(1, 9)}
    assert leases(lib) == []
    again = await call_run(hass)  # whoever worked, the work is done
    assert again is not None
    assert again["status"] == "success"
    assert not again["changes_total"]
    assert_no_violations(sim_server.sim)
