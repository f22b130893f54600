"""Home Assistant fixtures: custom integrations, snapshots, the simulator, config entries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, PropertyMock, patch

import pytest
from aiohttp.resolver import AsyncResolver
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.immich_autotag.const import DOMAIN
from tests.ha.fake_runner import FakeRunner, install
from tests.loopback import allow_loopback
from tests.reliability.common import FAST_RETRY
from tests.sim import SimLibrary, Simulator, SimUser

ENTRY_ID = "01JAUTOTAGTESTENTRY0000000"
CONNECT = "custom_components.immich_autotag.config_flow.ImmichClient.connect"
REAL_STORE_WRITE = Store._async_write_data  # before the test plugin's stand-in replaces it


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/ in every HA test."""


@pytest.fixture
async def hass(hass: HomeAssistant, tmp_path: Path) -> HomeAssistant:
    """Home Assistant with a configuration folder of this test's own.

    The test plugin points every instance at one shared folder: journals written there by one
    test were read by the next, and raced between `pytest -n 2` workers.
    """
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    hass.config.config_dir = str(config_dir)
    return hass


@pytest.fixture
def real_store_writes(hass: HomeAssistant) -> Generator[None]:
    """Stores written as Home Assistant writes them, into the test's configuration folder.

    The test plugin's stand-in serialises, re-parses and walks every save in the event loop:
    at 100,000 assets the album cache's save alone was a run's longest step (70-150 ms).
    """
    with patch.object(Store, "_async_write_data", REAL_STORE_WRITE):
        yield


@pytest.fixture(autouse=True)
def fast_retries() -> Generator[None]:
    """Runs retry with the product's budgets 100x shorter (set-up keeps its FAIL_FAST)."""
    with patch("custom_components.immich_autotag.immich.transport.RUN_POLICY", FAST_RETRY):
        yield


class _PerTestResolver(AsyncResolver):
    """aiodns resolution as in HA's shared session; HA closes its resolver via `real_close`."""

    async def real_close(self) -> None:
        await self.close()


@pytest.fixture(autouse=True)
async def mock_zeroconf_resolver() -> AsyncIterator[object]:
    """HA's shared session resolves host names with aiodns, one resolver per test.

    Overrides the HA test plugin's fixture of the same name, which shares one resolver across
    the session: with aiodns 4 its futures stay bound to the first test's event loop, and a
    later test that resolves a host name (the simulator's `localhost`) fails.
    """
    resolver = _PerTestResolver()
    patcher = patch(
        "homeassistant.helpers.aiohttp_client._async_make_resolver", return_value=resolver
    )
    patcher.start()
    try:
        yield patcher
    finally:
        patcher.stop()
        await resolver.close()


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's format (plugin order differs between machines)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Every entity enabled (core defines this fixture; phcc does not)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@dataclass
class SimServer:
    """A running simulator and the user/key the tests configure."""

    sim: Simulator
    lib: SimLibrary
    url: str
    user: SimUser
    key: str


def alice_library(seed: int, name_year: int, days: range) -> tuple[SimLibrary, SimUser, str]:
    """Alice with an all-permissions key and a photo a day of July 2024 (EXIF), each named
    `IMG_<name_year>07<day>_101010.jpg`: a file-name date the run prefers when it is earlier."""
    lib = SimLibrary(seed=seed)
    alice = lib.add_user("alice@example.com", "Alice")
    key = lib.add_api_key(alice, permissions={"all"})
    for day in days:
        lib.add_asset(
            alice, f"IMG_{name_year}07{day:02d}_101010.jpg", taken=datetime(2024, 7, day, 10)
        )
    return lib, alice, key


@pytest.fixture
def sim_library() -> tuple[SimLibrary, SimUser, str]:
    """A small library owned by Alice, with an all-permissions key."""
    return alice_library(7, 2024, range(1, 4))


@pytest.fixture
def sim_version() -> str:
    """Immich version the simulator answers as (override to test others)."""
    return "3.0.3"


@pytest.fixture
def loopback(socket_enabled: None) -> None:
    """Sockets to the loopback addresses only (localhost may be ::1 as well as 127.0.0.1)."""
    allow_loopback()


@pytest.fixture
async def sim_server(
    loopback: None,
    sim_library: tuple[SimLibrary, SimUser, str],
    sim_version: str,
) -> AsyncIterator[SimServer]:
    """The Immich simulator at a `localhost` URL (real HTTP through HA's shared session)."""
    lib, user, key = sim_library
    sim = Simulator(lib, version=sim_version)
    async with sim.serve() as url:
        yield SimServer(sim, lib, url, user, key)


def immich_entry(
    url: str,
    key: str,
    unique_id: str,
    *,
    title: str = "Alice",
    entry_id: str | None = None,
    options: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """A config entry of the integration for the server at `url` and the key `key`."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=unique_id,
        entry_id=entry_id,
        data={CONF_URL: url, CONF_API_KEY: key, CONF_VERIFY_SSL: True},
        options=options,
    )


@pytest.fixture
def mock_config_entry(sim_server: SimServer) -> MockConfigEntry:
    """A config entry for Alice on the simulator."""
    return immich_entry(sim_server.url, sim_server.key, sim_server.user.id, entry_id=ENTRY_ID)


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Config-flow tests do not set the entry up."""
    with patch("custom_components.immich_autotag.async_setup_entry", return_value=True) as mock:
        yield mock


@pytest.fixture
def patch_connect() -> Generator[AsyncMock]:
    """Make the config flow's `connect()` fail the way a test needs (the simulator cannot)."""
    with patch(CONNECT, autospec=True) as mock:
        yield mock


async def setup_integration(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add the entry and set it up."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def options(**values: Any) -> dict[str, Any]:
    """Options with defaults."""
    return {"rules": "", "run_interval": 0, "max_concurrency": 32, "max_rps": 0.0} | values


# --- runs with a scripted runner ---------------------------------------------------------
@pytest.fixture
def fake_runner() -> Generator[FakeRunner]:
    """The runner replaced by a scripted fake."""
    runner = FakeRunner()
    with install(runner):
        yield runner


@pytest.fixture
def no_throttle() -> Generator[None]:
    """Progress pushes are not rate limited."""
    with patch("custom_components.immich_autotag.throttled_push.PROGRESS_INTERVAL", 0):
        yield


@pytest.fixture
async def loaded_entry(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, fake_runner: FakeRunner
) -> MockConfigEntry:
    """Alice's entry, set up with the fake runner."""
    await setup_integration(hass, mock_config_entry)
    return mock_config_entry


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    """The state of an entity that must exist."""
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


async def call_action(hass: HomeAssistant, action: str, **data: object) -> dict[str, Any]:
    """Call the action `immich_autotag.<action>` on Alice's entry and return its response."""
    response = await hass.services.async_call(
        DOMAIN,
        action,
        {"config_entry_id": ENTRY_ID, **data},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)


async def call_run(hass: HomeAssistant, **data: object) -> dict[str, Any]:
    """Call `immich_autotag.run` on Alice's entry and return its response."""
    return await call_action(hass, "run", **data)


async def wait_idle(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Wait until the entry's background run has finished."""
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not entry.runtime_data.coordinator.running
