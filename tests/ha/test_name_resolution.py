"""Home Assistant's shared session reaches a server by host name (see tests/e2e/test_name_resolution.py)."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from tests.ha.conftest import SimServer


async def test_shared_session_resolves_the_simulators_host_name(
    hass: HomeAssistant, sim_server: SimServer
) -> None:
    assert sim_server.url.startswith("http://localhost:")
    session = async_get_clientsession(hass)
    url = f"{sim_server.url}/api/server/version"
    async with session.get(url, headers={"x-api-key": sim_server.key}) as resp:
        assert resp.status == 200
        assert (await resp.json())["major"] == 3
