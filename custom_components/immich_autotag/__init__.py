"""Immich AutoTag: keeps an Immich library organised by rules."""

from __future__ import annotations

import logging

from homeassistant.const import CONF_URL, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
)
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from .connection import async_shared_limiter, build_client, entry_limits
from .const import DOMAIN, REQUIRED_PERMISSIONS
from .coordinator import (
    ISSUE_INVALID_RULES,
    ISSUE_MISSING_PERMISSIONS,
    ISSUE_UNSUPPORTED_VERSION,
    AutoTagCoordinator,
    ImmichAutoTagConfigEntry,
    ImmichAutoTagRuntimeData,
    async_remove_stored_data,
    issue_id,
)
from .immich.errors import (
    ImmichAuthError,
    ImmichConnectionError,
    ImmichInvalidResponseError,
    ImmichPermissionError,
    ImmichRateLimitedError,
    ImmichServerError,
    ImmichUnsupportedVersionError,
)
from .services import async_setup_services

_LOGGER = logging.getLogger(__name__)

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SENSOR]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:  # noqa: ARG001
    """Register the actions (once, for every entry)."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ImmichAutoTagConfigEntry) -> bool:
    """Connect to the server, load the run manager and the entities."""
    limits = entry_limits(entry)
    limiter = async_shared_limiter(hass, entry.data[CONF_URL], limits)
    client = build_client(hass, entry, limiter)
    unsupported_issue = issue_id(ISSUE_UNSUPPORTED_VERSION, entry.entry_id)
    try:
        server = await client.connect()
    except ImmichAuthError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="auth_failed",
            translation_placeholders={"title": entry.title},
        ) from err
    except ImmichPermissionError as err:
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="permission_denied",
            translation_placeholders={"title": entry.title, "error": str(err)},
        ) from err
    except ImmichUnsupportedVersionError as err:
        ir.async_create_issue(
            hass,
            DOMAIN,
            unsupported_issue,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_UNSUPPORTED_VERSION,
            translation_placeholders={"title": entry.title, "version": err.version},
        )
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="unsupported_version",
            translation_placeholders={"version": err.version},
        ) from err
    except (
        ImmichConnectionError,
        ImmichServerError,
        ImmichRateLimitedError,
        ImmichInvalidResponseError,
    ) as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err) or type(err).__name__},
        ) from err
    ir.async_delete_issue(hass, DOMAIN, unsupported_issue)

    missing_issue = issue_id(ISSUE_MISSING_PERMISSIONS, entry.entry_id)
    missing = server.api_key.missing(REQUIRED_PERMISSIONS)
    if missing:
        ir.async_create_issue(
            hass,
            DOMAIN,
            missing_issue,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_MISSING_PERMISSIONS,
            translation_placeholders={
                "title": entry.title,
                "permissions": ", ".join(sorted(missing)),
            },
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, missing_issue)

    coordinator = AutoTagCoordinator(hass, entry, client, server)
    coordinator.limiter = limiter
    await coordinator.async_config_entry_first_refresh()
    coordinator.async_check_rules()
    entry.runtime_data = ImmichAutoTagRuntimeData(server=server, coordinator=coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_start_schedule()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ImmichAutoTagConfigEntry) -> bool:
    """Cancel a running run and unload the entities."""
    entry.runtime_data.coordinator.async_stop()
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: ImmichAutoTagConfigEntry) -> None:
    """Forget the stored reports, the album cache and the repair issues of a removed entry."""
    for kind in (ISSUE_INVALID_RULES, ISSUE_MISSING_PERMISSIONS, ISSUE_UNSUPPORTED_VERSION):
        ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry.entry_id))
    await async_remove_stored_data(hass, entry.entry_id)
