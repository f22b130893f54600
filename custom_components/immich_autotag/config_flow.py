"""Config flow of Immich AutoTag: user, reauth and reconfigure (options: `options_flow.py`)."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .const import (
    DOMAIN,
    REQUIRED_PERMISSIONS,
)
from .immich.answers import UrlCredentialsError
from .immich.client import ImmichClient
from .immich.errors import (
    CONNECT_ERRORS,
    ImmichAuthError,
    ImmichBadRequestError,
    ImmichInvalidResponseError,
    ImmichNotFoundError,
    ImmichRedirectError,
    ImmichUnsupportedVersionError,
)
from .immich.limiter import Limiter
from .immich.models import ServerInfo
from .immich.retry import FAIL_FAST
from .immich.transport import normalize_url
from .issues import features_off
from .options_flow import ImmichAutoTagOptionsFlow

_LOGGER = logging.getLogger(__name__)


# A person is waiting for the form: about 10 s (FAIL_FAST), not the run's patient retries.
FLOW_CONCURRENCY = 2
_HTTP_STATUS = re.compile(r"HTTP (\d{3})")


class NotImmichError(Exception):
    """The URL answers, but not as an Immich server (a wrong port or path)."""


class MissingPermissionsError(Exception):
    """The API key lacks permissions the product needs."""

    def __init__(self, missing: frozenset[str]) -> None:
        super().__init__(", ".join(sorted(missing)))
        self.missing = missing


async def async_validate_server(
    hass: HomeAssistant, url: str, api_key: str, *, verify_ssl: bool
) -> ServerInfo:
    """Connect to the server with the key and check it may read the library.

    Raises the client's errors, NotImmichError (the URL answers, but not as Immich: HTTP 404,
    a web page), or MissingPermissionsError (a required permission is missing).
    """
    client = ImmichClient(
        async_get_clientsession(hass, verify_ssl),
        url,
        api_key,
        limiter=Limiter(FLOW_CONCURRENCY),
        verify_ssl=verify_ssl,
        retry=FAIL_FAST,
    )
    where = f"{client.api_url}/server/version"
    try:  # public, needs no key: a wrong port or path shows here, before the key is judged
        await client.get_server_version()
    except (ImmichNotFoundError, ImmichBadRequestError) as err:
        status = _HTTP_STATUS.search(str(err))
        raise NotImmichError(f"HTTP {status.group(1) if status else 404} at {where}") from err
    except ImmichInvalidResponseError as err:
        raise NotImmichError(f"no Immich answer at {where}") from err
    info = await client.connect()
    missing = info.api_key.missing(REQUIRED_PERMISSIONS)
    if missing:
        raise MissingPermissionsError(missing)
    return info


async def _async_try_validate(
    hass: HomeAssistant,
    raw_url: str,
    api_key: str,
    *,
    verify_ssl: bool,
    errors: dict[str, str],
    placeholders: dict[str, str],
) -> tuple[str, ServerInfo] | None:
    """Normalise the URL and validate; failures become form errors (None when it failed)."""
    try:
        url, _api_url = normalize_url(raw_url)
    except UrlCredentialsError:
        errors[CONF_URL] = "url_credentials"
        return None
    except ValueError:
        errors[CONF_URL] = "invalid_url"
        return None
    try:
        return url, await async_validate_server(hass, url, api_key, verify_ssl=verify_ssl)
    except ImmichAuthError:
        errors["base"] = "invalid_auth"
    except ImmichUnsupportedVersionError as err:
        errors["base"] = "unsupported_version"
        placeholders["version"] = err.version
    except NotImmichError as err:
        errors["base"] = "not_immich"
        placeholders["detail"] = str(err)
    except MissingPermissionsError as err:
        errors["base"] = "missing_permissions"
        placeholders["permissions"] = ", ".join(sorted(err.missing))
    except ImmichRedirectError as err:  # never followed: the key stays with this URL
        errors["base"] = "redirected" if err.suggested_url else "redirected_elsewhere"
        placeholders["target"] = err.suggested_url or err.target
    except CONNECT_ERRORS:
        errors["base"] = "cannot_connect"
    except Exception:  # any other failure is reported as "unknown"
        _LOGGER.exception("Unexpected error while validating the Immich server")
        errors["base"] = "unknown"
    return None


def _user_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_URL, default=defaults.get(CONF_URL, vol.UNDEFINED)): TextSelector(
                TextSelectorConfig(type=TextSelectorType.URL)
            ),
            # Kept after an error: only the URL may need fixing.
            vol.Required(CONF_API_KEY, default=defaults.get(CONF_API_KEY, vol.UNDEFINED)): (
                TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
            ),
            vol.Required(CONF_VERIFY_SSL, default=defaults.get(CONF_VERIFY_SSL, True)): (
                BooleanSelector()
            ),
        }
    )


class ImmichAutoTagConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up an Immich server and user."""

    VERSION = 1
    MINOR_VERSION = 2  # 2: max_concurrency is the adaptive limit's ceiling (see __init__)

    def __init__(self) -> None:
        self._finish: Callable[[], ConfigFlowResult] | None = None  # after `features_off`
        self._features = ""

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> ImmichAutoTagOptionsFlow:  # noqa: ARG004
        """The options flow (rules, schedule, limits)."""
        return ImmichAutoTagOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for URL, API key and SSL verification; validate against the server."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            verify_ssl = bool(user_input[CONF_VERIFY_SSL])
            checked = await _async_try_validate(
                self.hass,
                user_input[CONF_URL],
                user_input[CONF_API_KEY],
                verify_ssl=verify_ssl,
                errors=errors,
                placeholders=placeholders,
            )
            if checked is not None:
                url, info = checked
                await self.async_set_unique_id(info.user.id)
                self._abort_if_unique_id_configured()
                data = {
                    CONF_URL: url,
                    CONF_API_KEY: user_input[CONF_API_KEY],
                    CONF_VERIFY_SSL: verify_ssl,
                }
                title = info.user.name or info.user.email
                return await self._async_finish_with(
                    info, functools.partial(self.async_create_entry, title=title, data=data)
                )
        return self.async_show_form(
            step_id="user",
            data_schema=_user_schema(user_input or {}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_finish_with(
        self, info: ServerInfo, finish: Callable[[], ConfigFlowResult]
    ) -> ConfigFlowResult:
        """Finish, first saying which features the key's missing permissions turn off."""
        off = features_off(info.api_key)
        if not off:
            return finish()
        self._finish = finish
        self._features = "\n".join(f"- {line}" for line in off)
        return await self.async_step_features_off()

    async def async_step_features_off(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The key works without some optional permissions: list what stays off, then go on."""
        if user_input is not None and self._finish is not None:
            return self._finish()
        return self.async_show_form(
            step_id="features_off",
            data_schema=vol.Schema({}),
            description_placeholders={"features": self._features},
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:  # noqa: ARG002
        """The API key was rejected: ask for a new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new API key of the same Immich user."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"title": entry.title}
        if user_input is not None:
            checked = await _async_try_validate(
                self.hass,
                entry.data[CONF_URL],
                user_input[CONF_API_KEY],
                verify_ssl=entry.data[CONF_VERIFY_SSL],
                errors=errors,
                placeholders=placeholders,
            )
            if checked is not None:
                await self.async_set_unique_id(checked[1].user.id)
                self._abort_if_unique_id_mismatch(reason="wrong_account")
                updates = {CONF_API_KEY: user_input[CONF_API_KEY]}
                return await self._async_finish_with(
                    checked[1],
                    functools.partial(
                        self.async_update_reload_and_abort, entry, data_updates=updates
                    ),
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_API_KEY): TextSelector(
                        TextSelectorConfig(type=TextSelectorType.PASSWORD)
                    )
                }
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the URL or SSL verification; the Immich user must stay the same."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"title": entry.title}
        if user_input is not None:
            verify_ssl = bool(user_input[CONF_VERIFY_SSL])
            checked = await _async_try_validate(
                self.hass,
                user_input[CONF_URL],
                entry.data[CONF_API_KEY],
                verify_ssl=verify_ssl,
                errors=errors,
                placeholders=placeholders,
            )
            if checked is not None:
                url, info = checked
                await self.async_set_unique_id(info.user.id)
                self._abort_if_unique_id_mismatch(reason="wrong_account")
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_URL: url, CONF_VERIFY_SSL: verify_ssl}
                )
        defaults = user_input or entry.data
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_URL, default=defaults[CONF_URL]): TextSelector(
                        TextSelectorConfig(type=TextSelectorType.URL)
                    ),
                    vol.Required(CONF_VERIFY_SSL, default=defaults[CONF_VERIFY_SSL]): (
                        BooleanSelector()
                    ),
                }
            ),
            errors=errors,
            description_placeholders=placeholders,
        )
