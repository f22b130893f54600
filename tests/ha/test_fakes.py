"""The scripted runner answers in the real runner's shapes (a fake that drifts proves nothing)."""

from __future__ import annotations

import inspect

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.immich_autotag.engine.runner import run

from .conftest import SimServer, call_run, setup_integration
from .fake_runner import FakeRunner, install


def _item_shapes(response: dict[str, object]) -> set[frozenset[str]]:
    changes = response["planned_changes"]
    assert isinstance(changes, list)
    assert changes
    return {frozenset(change) for change in changes}


async def test_the_fake_runner_answers_like_the_real_one(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    """Dry and real runs: the same response keys; planned changes shaped like `Plan.describe`."""
    await setup_integration(hass, mock_config_entry)
    real_dry = await call_run(hass, dry_run=True)
    real = await call_run(hass)
    with install(FakeRunner()):
        fake_dry = await call_run(hass, dry_run=True)
        fake = await call_run(hass)
    assert sim_server.sim.stats.writes > 0  # the real run did something
    assert real_dry is not None
    assert real is not None
    assert fake_dry is not None
    assert fake is not None
    assert set(fake_dry) == set(real_dry)
    assert set(fake) == set(real)
    assert _item_shapes(fake_dry) <= _item_shapes(real_dry)


def test_the_fake_runner_takes_the_real_runners_arguments() -> None:
    real = inspect.signature(run)
    fake = inspect.signature(FakeRunner.__call__)
    assert list(fake.parameters)[1:] == list(real.parameters)
