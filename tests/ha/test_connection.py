"""Where the server's limiter lives: one per server, rebuilt on new limits, released on unload."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.immich_autotag.connection import LIMITERS
from custom_components.immich_autotag.const import CONF_MAX_CONCURRENCY, CONF_MAX_RPS, DOMAIN
from custom_components.immich_autotag.immich.client import ImmichClient

from .conftest import SimServer, call_run, immich_entry, options, setup_integration
from .fake_runner import FakeRunner


def _bob_entry(sim_server: SimServer, **limits: float) -> MockConfigEntry:
    bob = sim_server.lib.add_user("bob@example.com", "Bob")
    return immich_entry(
        sim_server.url,
        sim_server.lib.add_api_key(bob, permissions={"all"}),
        bob.id,
        title="Bob",
        options=options(**limits),
    )


def _client_of_last_run(fake_runner: FakeRunner) -> ImmichClient:
    client = fake_runner.calls[-1]["client"]
    assert isinstance(client, ImmichClient)
    return client


async def test_changed_limits_apply_after_a_reload(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mock_config_entry: MockConfigEntry,
    fake_runner: FakeRunner,
) -> None:
    """Limits saved in the options and then reloaded are the ones the next run uses."""
    await setup_integration(hass, mock_config_entry)
    await call_run(hass)
    assert _client_of_last_run(fake_runner).limiter.max_concurrency == 32  # the default
    hass.config_entries.async_update_entry(
        mock_config_entry, options=options(max_concurrency=1, max_rps=5.0)
    )
    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    await call_run(hass)
    limiter = _client_of_last_run(fake_runner).limiter
    assert (limiter.max_concurrency, limiter.max_rps) == (1, 5.0)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, mock_config_entry)
    assert diagnostics["limiter"]["max_concurrency"] == 1
    assert diagnostics["limiter"]["max_rps"] == 5.0


async def test_one_limiter_per_server_with_the_strictest_limits(
    hass: HomeAssistant,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    fake_runner: FakeRunner,
) -> None:
    """Two users of one server share one limiter; the lower limits of the two apply."""
    bob_entry = _bob_entry(sim_server, max_concurrency=2)
    await setup_integration(hass, mock_config_entry)
    await setup_integration(hass, bob_entry)
    await call_run(hass)
    alice_limiter = _client_of_last_run(fake_runner).limiter
    assert alice_limiter.max_concurrency == 2
    limiters = hass.data[LIMITERS]
    assert list(limiters) == [sim_server.url]
    # Bob relaxes his limit without a reload: Alice's default (32) is now the strictest.
    hass.config_entries.async_update_entry(bob_entry, options=options(max_concurrency=40))
    await call_run(hass)
    assert _client_of_last_run(fake_runner).limiter.max_concurrency == 32
    assert bob_entry.options[CONF_MAX_CONCURRENCY] == 40
    assert bob_entry.options[CONF_MAX_RPS] == 0.0


async def test_limiter_released_when_the_last_entry_unloads(
    hass: HomeAssistant,
    sim_server: SimServer,
    mock_config_entry: MockConfigEntry,
    fake_runner: FakeRunner,
) -> None:
    bob_entry = _bob_entry(sim_server)
    await setup_integration(hass, mock_config_entry)
    await setup_integration(hass, bob_entry)
    limiters = hass.data[LIMITERS]
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    assert list(limiters) == [sim_server.url]
    assert await hass.config_entries.async_unload(bob_entry.entry_id)
    assert hass.data[LIMITERS] == {}
    assert fake_runner.calls == []


async def test_entries_saved_with_the_old_default_move_to_the_new_ceiling(
    hass: HomeAssistant, sim_server: SimServer, fake_runner: FakeRunner
) -> None:
    """Options saved before the limit adapted: 4 in flight was the default, now 32 is."""
    old_default = _bob_entry(sim_server, max_concurrency=4)
    chosen = MockConfigEntry(
        domain=DOMAIN,
        title="Carol",
        unique_id="carol",
        data=dict(old_default.data),
        options=options(max_concurrency=6),
    )
    for entry in (old_default, chosen):
        assert entry.minor_version == 1
        await setup_integration(hass, entry)
        assert entry.minor_version == 2
    assert old_default.options[CONF_MAX_CONCURRENCY] == 32
    assert chosen.options[CONF_MAX_CONCURRENCY] == 6  # a chosen value stays: now the ceiling
    await call_run(hass, config_entry_id=chosen.entry_id)
    # one limiter for the server, the strictest ceiling of its entries
    assert _client_of_last_run(fake_runner).limiter.max_concurrency == 6
