"""Actions of `immich_autotag`: `run`, `cancel`, `clean_up`, `dashboard`, `undo`, `explain`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util.yaml import dump as yaml_dump

from .clean_up import async_clean_up
from .const import DOMAIN
from .dashboard import dashboard_view, entry_entity_ids
from .engine import scope
from .engine.explain import explain_asset
from .engine.explain_load import AssetRefError
from .engine.journal_read import LAST
from .engine.report import ErrorKind, RunReport, RunStatus
from .engine.scope import InvalidAssetIdError
from .immich.errors import ImmichError
from .issues import async_valid_rules

if TYPE_CHECKING:
    from .coordinator import AutoTagCoordinator
    from .data import ImmichAutoTagConfigEntry


SERVICE_RUN: Final = "run"
SERVICE_CANCEL: Final = "cancel"
SERVICE_CLEAN_UP: Final = "clean_up"
SERVICE_DASHBOARD: Final = "dashboard"
SERVICE_UNDO: Final = "undo"
SERVICE_EXPLAIN: Final = "explain"

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_DRY_RUN: Final = "dry_run"
ATTR_ASSET_IDS: Final = "asset_ids"
ATTR_RUN_ID: Final = "run_id"
ATTR_ASSET: Final = "asset"
ATTR_MIGRATE_OUTPUTS: Final = "migrate_outputs"


RUN_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_DRY_RUN, default=False): cv.boolean,
        vol.Optional(ATTR_ASSET_IDS): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional(ATTR_MIGRATE_OUTPUTS, default=False): cv.boolean,
    }
)
UNDO_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_RUN_ID): vol.All(cv.string, vol.Strip, vol.Length(min=1, max=64)),
        vol.Optional(ATTR_DRY_RUN, default=False): cv.boolean,
    }
)
EXPLAIN_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_ASSET): vol.All(cv.string, vol.Strip, vol.Length(min=1, max=2048)),
    }
)
CANCEL_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})
CLEAN_UP_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_DRY_RUN, default=True): cv.boolean,  # dry run first
    }
)


def _get_entry(hass: HomeAssistant, entry_id: str) -> ImmichAutoTagConfigEntry:
    """The loaded entry of this domain; translated errors otherwise."""
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    return entry


def _coordinator(hass: HomeAssistant, call: ServiceCall) -> AutoTagCoordinator:
    return _get_entry(hass, call.data[ATTR_CONFIG_ENTRY_ID]).runtime_data.coordinator


def parse_asset_ids(values: list[str] | None) -> list[str] | None:
    """Validate asset ids (UUIDs, normalised to lower case); None means every asset."""
    if values is None:
        return None
    if not values:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="empty_asset_ids")
    for value in values:  # the engine's check (headless --asset-id uses it too), per value
        try:
            scope.parse_asset_ids([value])
        except InvalidAssetIdError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_asset_id",
                translation_placeholders={"asset_id": value},
            ) from err
    return scope.parse_asset_ids(values)


def run_response(report: RunReport) -> dict[str, Any]:
    """The response of `run`: the summary, the old output tags found, a dry run's changes."""
    response = report.summary()
    if report.output_migration:
        response["renamed_outputs"] = list(report.output_migration)
    if report.dry_run:
        response["planned_changes"] = list(report.planned_changes)
        response["planned_changes_total"] = report.planned_changes_total
    return response


async def _async_run(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call.hass, call)
    asset_ids = parse_asset_ids(call.data.get(ATTR_ASSET_IDS))
    task = coordinator.async_start_run(
        dry_run=call.data[ATTR_DRY_RUN],
        asset_ids=asset_ids,
        migrate_outputs=call.data[ATTR_MIGRATE_OUTPUTS],
    )
    if not call.return_response:
        return None
    return run_response(await _finished(coordinator, task))


async def _async_undo(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call.hass, call)
    run_id = call.data.get(ATTR_RUN_ID) or LAST
    task = coordinator.async_start_undo(run_id, dry_run=call.data[ATTR_DRY_RUN])
    if not call.return_response:
        return None
    return undo_response(await _finished(coordinator, task))


def undo_response(report: RunReport) -> dict[str, Any]:
    """The response of `undo`: a run's response, with the skipped changes listed."""
    return {**run_response(report), "skipped": list(report.skipped)}


async def _async_explain(call: ServiceCall) -> ServiceResponse:
    """Why a run does what it does to one asset (read-only, a few requests)."""
    entry = _get_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    rules = async_valid_rules(call.hass, entry)
    client = entry.runtime_data.coordinator.connection.async_client()
    try:
        return await explain_asset(client, rules, call.data[ATTR_ASSET])
    except AssetRefError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_asset",
            translation_placeholders={"error": str(err)},
        ) from err
    except ImmichError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="explain_failed",
            translation_placeholders={"title": entry.title, "error": str(err)},
        ) from err


async def _finished(coordinator: AutoTagCoordinator, task: asyncio.Task[RunReport]) -> RunReport:
    """The report of a started run; translated errors when it failed or was interrupted."""
    title = coordinator.config_entry.title
    try:
        report = await asyncio.shield(task)
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="run_interrupted",
            translation_placeholders={"title": title},
        ) from None
    if report.error_kind is ErrorKind.AUTH:
        # The run manager has started reauthentication already.
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="auth_failed",
            translation_placeholders={"title": title},
        )
    if report.status is RunStatus.FAILED:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="run_failed",
            translation_placeholders={
                "title": title,
                "error": report.error_message or str(report.error_kind or ErrorKind.UNKNOWN),
            },
        )
    return report


async def _async_cancel(call: ServiceCall) -> None:
    coordinator = _coordinator(call.hass, call)
    if not coordinator.async_cancel_run():
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_running",
            translation_placeholders={"title": coordinator.config_entry.title},
        )


async def _async_clean_up(call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(call.hass, call)
    response = await async_clean_up(coordinator, dry_run=call.data[ATTR_DRY_RUN])
    return response if call.return_response else None


async def _async_dashboard(call: ServiceCall) -> ServiceResponse:
    """The entry's dashboard view (as data and as YAML for the raw configuration editor)."""
    entry = _get_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    view = dashboard_view(entry_entity_ids(call.hass, str(entry.unique_id)))
    return {"view": view, "yaml": yaml_dump({"views": [view]})}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions of the integration."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_RUN,
        _async_run,
        schema=RUN_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(DOMAIN, SERVICE_CANCEL, _async_cancel, schema=CANCEL_SCHEMA)
    hass.services.async_register(
        DOMAIN,
        SERVICE_DASHBOARD,
        _async_dashboard,
        schema=CANCEL_SCHEMA,  # the entry only
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_EXPLAIN,
        _async_explain,
        schema=EXPLAIN_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_CLEAN_UP,
        _async_clean_up,
        schema=CLEAN_UP_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_UNDO,
        _async_undo,
        schema=UNDO_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
