"""Config flow: user step, reauth, reconfigure and options (100 % branch coverage)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Mapping
from unittest.mock import AsyncMock, patch

import pytest
from aiohttp import web
from homeassistant.config_entries import SOURCE_USER, ConfigFlowResult
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.translation import async_get_translations
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.immich_autotag.const import (
    CONF_MAX_CONCURRENCY,
    CONF_MAX_RPS,
    CONF_NOTIFY,
    CONF_RULES,
    CONF_RUN_INTERVAL,
    CONF_WATCH_INTERVAL,
    CONF_WATCH_SETTLE,
    DOMAIN,
)
from custom_components.immich_autotag.engine.default_rules import default_rules_yaml
from custom_components.immich_autotag.immich.errors import (
    ImmichConnectionError,
    ImmichInvalidResponseError,
    ImmichServerError,
    ImmichUnsupportedVersionError,
)
from tests.loopback import allow_loopback

from .conftest import SimServer, immich_entry

pytestmark = pytest.mark.usefixtures("mock_setup_entry")

CONNECT = "custom_components.immich_autotag.config_flow.ImmichClient.connect"
CLOSED_URL = "http://localhost:9"  # discard port: connection refused


@pytest.fixture
def patch_connect() -> Generator[AsyncMock]:
    """Make `connect()` fail the way a test needs (the simulator cannot break these)."""
    with patch(CONNECT, autospec=True) as mock:
        yield mock


def _placeholders(result: ConfigFlowResult) -> Mapping[str, str]:
    placeholders = result.get("description_placeholders")
    assert placeholders is not None
    return placeholders


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
    assert _placeholders(result)["permissions"] == "album.read, tag.read"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: sim_server.url, CONF_API_KEY: sim_server.key, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


READ_ONLY = {"user.read", "asset.read", "tag.read", "album.read"}


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
    text = _placeholders(result)["features"]
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
        assert _placeholders(result)["version"] == "v1.132.0"
    patch_connect.side_effect = None
    patch_connect.return_value = await _real_info(hass, sim_server)
    result = await hass.config_entries.flow.async_configure(flow_id, user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def _real_info(hass: HomeAssistant, sim_server: SimServer):  # type: ignore[no-untyped-def]
    from custom_components.immich_autotag.immich.models import (  # noqa: PLC0415
        ApiKeyInfo,
        ServerInfo,
        ServerVersion,
        User,
    )

    return ServerInfo(
        version=ServerVersion(3, 0, 3),
        user=User(sim_server.user.id, sim_server.user.email, sim_server.user.name),
        api_key=ApiKeyInfo("k", "autotag", frozenset({"all"})),
    )


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


async def test_reauth(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    """A wrong key first, then a new key of the same user replaces the old one."""
    mock_config_entry.add_to_hass(hass)
    new_key = sim_server.lib.add_api_key(sim_server.user, permissions={"all"}, name="new")
    result = await mock_config_entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert _placeholders(result)["title"] == "Alice"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "revoked"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: new_key}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert mock_config_entry.data[CONF_API_KEY] == new_key
    assert mock_config_entry.data[CONF_URL] == sim_server.url


async def test_reauth_with_a_read_only_key_says_what_is_off(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    key = sim_server.lib.add_api_key(sim_server.user, permissions=READ_ONLY)
    result = await mock_config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_API_KEY: key})
    assert result["step_id"] == "features_off"
    assert "every run is a dry run" in _placeholders(result)["features"]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert mock_config_entry.data[CONF_API_KEY] == key


async def test_reauth_other_user(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    bob = sim_server.lib.add_user("bob@example.com", "Bob")
    bob_key = sim_server.lib.add_api_key(bob, permissions={"all"})
    result = await mock_config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: bob_key}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert mock_config_entry.data[CONF_API_KEY] == sim_server.key


async def test_reconfigure(
    hass: HomeAssistant, sim_server: SimServer, mock_config_entry: MockConfigEntry
) -> None:
    """Invalid URL, unreachable URL, then the server's URL with `/api` and no SSL check."""
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    flow_id = result["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: "not a url", CONF_VERIFY_SSL: True}
    )
    assert result["errors"] == {CONF_URL: "invalid_url"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: CLOSED_URL, CONF_VERIFY_SSL: True}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_URL: f"{sim_server.url}/api", CONF_VERIFY_SSL: False}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert mock_config_entry.data == {
        CONF_URL: sim_server.url,
        CONF_API_KEY: sim_server.key,
        CONF_VERIFY_SSL: False,
    }


async def test_reconfigure_other_user(
    hass: HomeAssistant, sim_server: SimServer, patch_connect: AsyncMock
) -> None:
    """The stored key now answers as another user (e.g. a different server): refused."""
    entry = immich_entry("http://old:2283", "k", "another-user-id", title="Someone")
    entry.add_to_hass(hass)
    patch_connect.return_value = await _real_info(hass, sim_server)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: sim_server.url, CONF_VERIFY_SSL: True}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert entry.data[CONF_URL] == "http://old:2283"


async def test_options_defaults_and_save(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """The form is pre-filled with the default rules; valid options are saved as typed."""
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    defaults = {
        str(key): key.default()
        for key in result["data_schema"].schema  # type: ignore[union-attr]
    }
    assert defaults == {
        CONF_RULES: default_rules_yaml(hass.config.time_zone),
        CONF_RUN_INTERVAL: 0,
        CONF_MAX_CONCURRENCY: 32,  # the ceiling of the adaptive limit
        CONF_MAX_RPS: 0.0,
        CONF_NOTIFY: False,
        CONF_WATCH_INTERVAL: 0,  # off
        CONF_WATCH_SETTLE: 10,
    }
    rules = "classification:\n  rules:\n    - {album_name_patterns: ['^\\d{4}']}\n"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_RULES: rules,
            CONF_RUN_INTERVAL: 60.0,
            CONF_MAX_CONCURRENCY: 8.0,
            CONF_MAX_RPS: 2.5,
            CONF_NOTIFY: True,
            CONF_WATCH_INTERVAL: 5.0,
            CONF_WATCH_SETTLE: 15.0,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options == {
        CONF_RULES: rules,
        CONF_RUN_INTERVAL: 60,
        CONF_MAX_CONCURRENCY: 8,
        CONF_MAX_RPS: 2.5,
        CONF_NOTIFY: True,
        CONF_WATCH_INTERVAL: 5,
        CONF_WATCH_SETTLE: 15,
    }


async def test_options_invalid_rules_then_fix(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """Invalid rules are refused with the line and key path; nothing is saved."""
    mock_config_entry.add_to_hass(hass)
    saved = "classification:\n  rules: []\n"
    hass.config_entries.async_update_entry(mock_config_entry, options={CONF_RULES: saved})
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    defaults = {str(k): k.default() for k in result["data_schema"].schema}  # type: ignore[union-attr]
    assert defaults[CONF_RULES] == saved
    bad = "classification:\n  rules:\n    - {album_name_patterns: ['(']}\n"
    user_input = {CONF_RULES: bad, CONF_RUN_INTERVAL: 0, CONF_MAX_CONCURRENCY: 4, CONF_MAX_RPS: 0}
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_RULES: "invalid_rules"}
    error = _placeholders(result)["error"]
    assert "line 3" in error
    assert "classification.rules[0]" in error
    assert mock_config_entry.options == {CONF_RULES: saved}
    # The form keeps what the user typed.
    defaults = {str(k): k.default() for k in result["data_schema"].schema}  # type: ignore[union-attr]
    assert defaults[CONF_RULES] == bad
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**user_input, CONF_RULES: ""}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options[CONF_RULES] == ""


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
    assert _placeholders(result)["detail"] == detail.format(port=port)
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
