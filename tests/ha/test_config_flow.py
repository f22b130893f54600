"""Config flow: the user step.

With `test_reauth_flow.py`, `test_reconfigure_flow.py` and `test_options_flow.py`, the flows
have 100 % branch coverage.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from unittest.mock import AsyncMock

import pytest
from aiohttp import web
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.translation import async_get_translations
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.immich_autotag.const import DOMAIN
from custom_components.immich_autotag.immich.errors import (
    ImmichConnectionError,
    ImmichInvalidResponseError,
    ImmichServerError,
    ImmichUnsupportedVersionError,
)
from tests.loopback import allow_loopback

from .conftest import SimServer
from .flow_helpers import CLOSED_URL, READ_ONLY, placeholders, server_info

pytestmark = pytest.mark.usefixtures("mock_setup_entry")


async def _start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return str(result["flow_id"])


@pytest.mark.parametrize("suffix", ["/api/", "/API", " ", "/api?x=1#f"])
async def test_user_flow(
    hass: HomeAssistant, sim_server: SimServer, mock_setup_entry: AsyncMock, suffix: str
) -> None:
    """URL with `/api`, valid key: entry titled by the Immich user, unique id = user id."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            CONF_URL: f"{sim_server.url}{suffix}",
            CONF_API_KEY: sim_server.key,
            CONF_VERIFY_SSL: False,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Alice"
    assert result["data"] == {
        CONF_URL: sim_server.url,
        CONF_API_KEY: sim_server.key,
        CONF_VERIFY_SSL: False,
    }
    assert result["result"].unique_id == sim_server.user.id
    assert len(mock_setup_entry.mock_calls) == 1


async def test_user_flow_invalid_url_then_recover(
    hass: HomeAssistant, sim_server: SimServer
) -> None:
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: "ftp://nowhere", CONF_API_KEY: sim_server.key, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_URL: "invalid_url"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: sim_server.url, CONF_API_KEY: sim_server.key, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_refuses_credentials_in_the_url(
    hass: HomeAssistant, sim_server: SimServer
) -> None:
    """`user:password@` is named as the problem, not dropped silently; nothing is sent."""
    flow_id = await _start(hass)
    with_credentials = sim_server.url.replace("://", "://me:hunter2@", 1)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: with_credentials, CONF_API_KEY: sim_server.key, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_URL: "url_credentials"}
    assert sim_server.sim.stats.total == 0
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: sim_server.url, CONF_API_KEY: sim_server.key, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_URL] == sim_server.url


async def test_user_flow_invalid_auth_then_recover(
    hass: HomeAssistant, sim_server: SimServer
) -> None:
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: sim_server.url, CONF_API_KEY: "wrong", CONF_VERIFY_SSL: True}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: sim_server.url, CONF_API_KEY: sim_server.key, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_cannot_connect_then_recover(
    hass: HomeAssistant, sim_server: SimServer
) -> None:
    """Nothing listens on the URL (real connection refused)."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: CLOSED_URL, CONF_API_KEY: sim_server.key, CONF_VERIFY_SSL: True}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: sim_server.url, CONF_API_KEY: sim_server.key, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_missing_permissions_then_recover(
    hass: HomeAssistant, sim_server: SimServer
) -> None:
    """The key cannot read the library: the form names the required permissions it lacks."""
    limited = sim_server.lib.add_api_key(
        sim_server.user, permissions={"user.read", "asset.read", "tag.asset", "album.create"}
    )
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: sim_server.url, CONF_API_KEY: limited, CONF_VERIFY_SSL: True}
    )
    assert result["errors"] == {"base": "missing_permissions"}
    assert placeholders(result)["permissions"] == "album.read, tag.read"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: sim_server.url, CONF_API_KEY: sim_server.key, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("permissions", "features"),
    [
        (READ_ONLY, ["every run is a dry run"]),
        (
            READ_ONLY | {"tag.create", "tag.asset", "album.create", "albumAsset.create"},
            ["capture dates are not corrected", "albums are not shared with new members"],
        ),
    ],
)
async def test_user_flow_accepts_a_key_without_optional_permissions(
    hass: HomeAssistant, sim_server: SimServer, permissions: set[str], features: list[str]
) -> None:
    """A key that can read the library is accepted; the flow says which features are off."""
    key = sim_server.lib.add_api_key(sim_server.user, permissions=permissions)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: sim_server.url, CONF_API_KEY: key, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "features_off"
    text = placeholders(result)["features"]
    for feature in features:
        assert feature in text
    assert "tag.read" not in text
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_KEY] == key


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ImmichConnectionError("down"), "cannot_connect"),
        (ImmichServerError("boom", 500), "cannot_connect"),
        (ImmichInvalidResponseError("html"), "cannot_connect"),
        (ImmichUnsupportedVersionError("v1.132.0"), "unsupported_version"),
        (RuntimeError("surprise"), "unknown"),
    ],
)
async def test_user_flow_errors_then_recover(
    hass: HomeAssistant,
    sim_server: SimServer,
    patch_connect: AsyncMock,
    error: Exception,
    expected: str,
) -> None:
    flow_id = await _start(hass)
    patch_connect.side_effect = error
    user_input = {CONF_URL: sim_server.url, CONF_API_KEY: sim_server.key, CONF_VERIFY_SSL: True}
    result = await hass.config_entries.flow.async_configure(flow_id, user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": expected}
    if expected == "unsupported_version":
        assert placeholders(result)["version"] == "v1.132.0"
    patch_connect.side_effect = None
    patch_connect.return_value = server_info(sim_server)
    result = await hass.config_entries.flow.async_configure(flow_id, user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_already_configured(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: sim_server.url, CONF_API_KEY: sim_server.key, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.fixture
async def not_immich(socket_enabled: None) -> AsyncIterator[str]:
    """A web server that is not Immich: 404 under /api, an HTML page everywhere else."""
    allow_loopback()

    async def page(request: web.Request) -> web.Response:
        if request.path.startswith("/api/"):
            return web.Response(status=404, text="<html>Not Found</html>")
        return web.Response(text="<html><body>a router</body></html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://localhost:{port}"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("", "HTTP 404 at http://localhost:{port}/api/server/version"),
        ("/photos", "no Immich answer at http://localhost:{port}/photos/api/server/version"),
    ],
)
async def test_user_flow_not_immich_keeps_the_key(
    hass: HomeAssistant, sim_server: SimServer, not_immich: str, path: str, detail: str
) -> None:
    """A wrong port or path: said so (with the URL tried), the key stays in the form."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {CONF_URL: f"{not_immich}{path}", CONF_API_KEY: sim_server.key, CONF_VERIFY_SSL: True},
    )
    assert result["errors"] == {"base": "not_immich"}
    port = not_immich.rsplit(":", 1)[1]
    assert placeholders(result)["detail"] == detail.format(port=port)
    defaults = {str(k): k.default() for k in result["data_schema"].schema}  # type: ignore[union-attr]
    assert defaults[CONF_API_KEY] == sim_server.key
    assert defaults[CONF_URL] == f"{not_immich}{path}"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: sim_server.url, CONF_API_KEY: sim_server.key, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_adds_the_scheme(hass: HomeAssistant, sim_server: SimServer) -> None:
    """`localhost:2283` is taken as `http://localhost:2283`."""
    flow_id = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            CONF_URL: sim_server.url.removeprefix("http://"),
            CONF_API_KEY: sim_server.key,
            CONF_VERIFY_SSL: True,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_URL] == sim_server.url


async def test_not_immich_message_is_translated(hass: HomeAssistant) -> None:
    names = await async_get_translations(hass, "en", "config", [DOMAIN])
    message = names[f"component.{DOMAIN}.config.error.not_immich"]
    assert message.startswith("This does not look like an Immich server ({detail})")
