"""`immich_autotag.explain` through Home Assistant: the explanation as the response, in a few
requests and no writes; bad references and missing assets are clear errors."""

from __future__ import annotations

from datetime import datetime

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.sim import SimLibrary, SimUser

from .conftest import SimServer, call_action, call_run, setup_integration


@pytest.fixture
def sim_library() -> tuple[SimLibrary, SimUser, str]:
    """Alice's photo whose file name carries an earlier date, and one in a dated album."""
    lib = SimLibrary(seed=3)
    alice = lib.add_user("alice@example.com", "Alice")
    key = lib.add_api_key(alice, permissions={"all"})
    lib.add_asset(alice, "IMG_20190701_101010.jpg", taken=datetime(2024, 7, 1, 10))
    beach = lib.add_asset(alice, "DSC0001.jpg", taken=datetime(2024, 7, 15, 10))
    lib.add_album(alice, "2024-07-15 Beach", [beach])
    return lib, alice, key


@pytest.mark.parametrize("sim_version", ["2.7.0", "3.2.2"])
async def test_explain_an_asset_by_link(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    await setup_integration(hass, mock_config_entry)
    lib, sim = sim_server.lib, sim_server.sim
    photo = next(a for a in lib.assets.values() if a.file_name.startswith("IMG_"))
    requests, writes = sim.stats.total, sim.stats.writes
    out = await call_action(hass, "explain", asset=f"{sim_server.url}/photos/{photo.id}")
    assert sim.stats.writes == writes
    assert sim.stats.total - requests == out["requests"] <= 10
    assert out["asset"]["id"] == photo.id
    assert out["date"]["decision"] == "set"
    assert out["status"] == "unclassified"
    assert out["temp_album"] == "2019-07-01-autotag-temp-unclassified"
    kinds = sorted(c["kind"] for c in out["changes"])
    assert kinds == ["album_add", "date_set", "tag_add"]
    dry = await call_run(hass, dry_run=True)  # what the explanation says is what a run plans
    planned = dry["planned_changes"]
    assert isinstance(planned, list)
    assert sorted(c["kind"] for c in planned if c.get("asset_id") == photo.id) == kinds


async def test_bad_or_unknown_assets_are_clear_errors(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    await setup_integration(hass, mock_config_entry)
    with pytest.raises(ServiceValidationError, match="neither an asset id"):
        await call_action(hass, "explain", asset="http://immich/photos/nope")
    with pytest.raises(ServiceValidationError, match="not found"):
        await call_action(hass, "explain", asset="00000000-0000-4000-8000-00000000abcd")
