"""Immich AutoTag: keeps an Immich library organised by rules."""

from __future__ import annotations

import logging

from homeassistant.components import persistent_notification
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
)
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .connection import EntryConnection
from .const import (
    CONF_MAX_CONCURRENCY,
    DEFAULT_MAX_CONCURRENCY,
    DOMAIN,
    LEGACY_DEFAULT_MAX_CONCURRENCY,
)
from .coordinator import AutoTagCoordinator
from .data import ImmichAutoTagConfigEntry, ImmichAutoTagRuntimeData
from .immich.errors import (
    CONNECT_ERRORS,
    ImmichAuthError,
    ImmichPermissionError,
    ImmichUnsupportedVersionError,
)
from .immich.retry import FAIL_FAST
from .issues import (
    async_check_permissions,
    async_check_rules,
    async_check_version,
    async_delete_issues,
)
from .schedule import RunSchedule
from .services import async_setup_services
from .storage import EntryStorage, kept_journal_path
from .watcher import NewAssetWatcher

_LOGGER = logging.getLogger(__name__)

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.BUTTON, Platform.SENSOR]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:  # noqa: ARG001
    """Register the actions (once, for every entry)."""
    async_setup_services(hass)
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: ImmichAutoTagConfigEntry) -> bool:
    """1.1 -> 1.2: "max concurrent requests" became the ceiling of an adaptive limit.

    Options saved with the old default of 4 in flight move to the new default ceiling;
    any other value stays (it is now the ceiling).
    """
    if entry.version > 1:
        return False  # a newer version's entry: refuse rather than guess
    if entry.minor_version < 2:  # noqa: PLR2004
        options = dict(entry.options)
        if options.get(CONF_MAX_CONCURRENCY) == LEGACY_DEFAULT_MAX_CONCURRENCY:
            options[CONF_MAX_CONCURRENCY] = DEFAULT_MAX_CONCURRENCY
        hass.config_entries.async_update_entry(entry, options=options, minor_version=2)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ImmichAutoTagConfigEntry) -> bool:
    """Connect to the server, load the run manager and the entities."""
    connection = EntryConnection(hass, entry)
    entry.async_on_unload(connection.async_release)
    try:
        server = await connection.client.connect(retry=FAIL_FAST)  # seconds, not minutes
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
        async_check_version(hass, entry, None, err.version)
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="unsupported_version",
            translation_placeholders={"version": err.version},
        ) from err
    except CONNECT_ERRORS as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err) or type(err).__name__},
        ) from err
    async_check_version(hass, entry, server.version, None)
    async_check_permissions(hass, entry, server.api_key)

    coordinator = AutoTagCoordinator(hass, entry, connection)
    await coordinator.async_config_entry_first_refresh()
    async_check_rules(hass, entry)
    entry.runtime_data = ImmichAutoTagRuntimeData(coordinator=coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    RunSchedule(coordinator).async_start()
    NewAssetWatcher(coordinator).async_start()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ImmichAutoTagConfigEntry) -> bool:
    """Cancel a running run and unload the entities (the limiter is released on unload)."""
    entry.runtime_data.coordinator.async_stop()
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: ImmichAutoTagConfigEntry) -> None:
    """Forget the reports, album cache and repair issues of a removed entry; keep its journal.

    The journal (the only record that could undo its runs) is moved out of `.storage` to
    `<config>/immich_autotag/journal-<entry id>.jsonl`, and a notification names the file.
    """
    async_delete_issues(hass, entry.entry_id)
    storage = EntryStorage(hass, entry.entry_id)
    kept = await storage.async_remove(kept_journal_path(hass, entry.entry_id))
    if kept is not None:
        persistent_notification.async_create(
            hass,
            f"The journal of the changes Immich AutoTag made for {entry.title} was kept: "
            f"`{kept}`. It lists every change with its old value (docs/journal.md). "
            "Tags and albums the integration created stay in Immich; to delete them, "
            "call `immich_autotag.clean_up` before removing the entry.",
            title=f"Immich AutoTag ({entry.title}) removed",
            notification_id=f"{DOMAIN}_{entry.entry_id}_removed",
        )
