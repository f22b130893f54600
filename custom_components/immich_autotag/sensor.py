"""Sensors: run status and progress, library counts and last-run statistics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .data import AutoTagData, ImmichAutoTagConfigEntry, RunState
from .engine.outcome import CHANGE_NAMES, RunResult, readable_changes, run_result
from .engine.report import RunReport
from .entity import AutoTagEntity

PARALLEL_UPDATES = 0  # state is pushed by the run manager

MAX_LISTED_CHANGES = 25  # a dry run's first planned changes, as an attribute (with links)
UNIT_ASSETS = "assets"


@dataclass(frozen=True, kw_only=True)
class AutoTagSensorEntityDescription(SensorEntityDescription):
    """A sensor reading the run manager's data."""

    value_fn: Callable[[AutoTagData], StateType | datetime]
    attributes_fn: Callable[[AutoTagData], dict[str, Any] | None] = lambda _: None


def _library(fn: Callable[[RunReport], int]) -> Callable[[AutoTagData], StateType]:
    """A count from the last run that read the whole library (None before any)."""

    def value(data: AutoTagData) -> StateType:
        report = data.last_complete_report
        return None if report is None else fn(report)

    return value


def _library_attributes(data: AutoTagData) -> dict[str, Any] | None:
    """What a count describes: the library as the last full run left it, or would leave it."""
    report = data.last_complete_report
    if report is None:
        return None
    return {
        "basis": "after_dry_run" if report.dry_run else "after_run",
        "counted_at": (report.finished_at or report.started_at).isoformat(),
    }


def _library_sensor(
    key: str, fn: Callable[[RunReport], int], unit: str = UNIT_ASSETS
) -> AutoTagSensorEntityDescription:
    """A count of the library as the last full run saw it, with what the count describes."""
    return AutoTagSensorEntityDescription(
        key=key,
        translation_key=key,
        native_unit_of_measurement=unit,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_library(fn),
        attributes_fn=_library_attributes,
    )


def _last_run_attributes(data: AutoTagData) -> dict[str, Any] | None:
    """What the last run was and did, for dashboards and automations."""
    report = data.last_report
    if report is None:
        return None
    return {
        "status": str(report.status),
        "result": str(run_result(report)),
        "dry_run": report.dry_run,
        "changes": readable_changes(report.changes),
        "failed_changes": readable_changes(report.failed_changes),
        "repaired_after_reread": report.repaired_after_reread,
        "errors": report.errors_total,
        "warnings": len(report.warnings),
        "links": list(report.links),
    } | _undo_attributes(report)


def _undo_attributes(report: RunReport) -> dict[str, Any]:
    """An undo's run id and the changes it left alone (later edits)."""
    if report.undo_of is None:
        return {}
    return {"undo_of": report.undo_of, "skipped": report.skipped_total}


def _result_attributes(data: AutoTagData) -> dict[str, Any] | None:
    """One attribute per change kind (translated names), the links and a dry run's listing."""
    report = data.last_report
    if report is None:
        return None
    attributes: dict[str, Any] = {
        "dry_run": report.dry_run,
        "changes_total": report.changes_total,
        "failed_total": sum(report.failed_changes.values()),
        "conflicts": report.status_counts.get("conflict", 0),
        "error": report.error_message,
    }
    attributes.update(
        {kind: report.changes[kind] for kind in CHANGE_NAMES if kind in report.changes}
    )
    attributes["links"] = list(report.links)
    if report.dry_run:
        attributes["planned_changes"] = list(report.planned_changes[:MAX_LISTED_CHANGES])
    return attributes


def _last_run[T](fn: Callable[[RunReport], T]) -> Callable[[AutoTagData], T | None]:
    """A value of the newest report (None before any)."""

    def value(data: AutoTagData) -> T | None:
        return None if data.last_report is None else fn(data.last_report)

    return value


SENSORS: tuple[AutoTagSensorEntityDescription, ...] = (
    AutoTagSensorEntityDescription(
        key="status",
        translation_key="status",
        device_class=SensorDeviceClass.ENUM,
        options=[state.value for state in RunState],
        value_fn=lambda data: data.state.value,
    ),
    AutoTagSensorEntityDescription(
        key="progress",
        translation_key="progress",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=lambda data: data.progress,
    ),
    _library_sensor("assets", lambda r: r.assets_in_scope),
    _library_sensor("unclassified", lambda r: r.status_counts.get("unclassified", 0)),
    _library_sensor("conflicts", lambda r: r.status_counts.get("conflict", 0)),
    _library_sensor("date_mismatches", lambda r: r.date_mismatches),
    _library_sensor("duplicate_conflicts", lambda r: r.duplicate_conflicts, "groups"),
    AutoTagSensorEntityDescription(
        key="new_assets",
        translation_key="new_assets",
        native_unit_of_measurement=UNIT_ASSETS,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda data: data.new_assets,
    ),
    AutoTagSensorEntityDescription(
        key="last_run_result",
        translation_key="last_run_result",
        device_class=SensorDeviceClass.ENUM,
        options=[result.value for result in RunResult],
        value_fn=_last_run(lambda r: run_result(r).value),
        attributes_fn=_result_attributes,
    ),
    AutoTagSensorEntityDescription(
        key="last_run",
        translation_key="last_run",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_last_run(lambda r: r.finished_at or r.started_at),
        attributes_fn=_last_run_attributes,
    ),
    AutoTagSensorEntityDescription(
        key="last_run_duration",
        translation_key="last_run_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_last_run(lambda r: round(r.duration, 3)),
    ),
    AutoTagSensorEntityDescription(
        key="last_run_changes",
        translation_key="last_run_changes",
        native_unit_of_measurement="changes",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_last_run(lambda r: r.changes_total),
    ),
    AutoTagSensorEntityDescription(
        key="last_run_api_requests",
        translation_key="last_run_api_requests",
        native_unit_of_measurement="requests",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_last_run(lambda r: r.api.requests),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ImmichAutoTagConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of an entry."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(AutoTagSensor(coordinator, d) for d in SENSORS)


class AutoTagSensor(AutoTagEntity, SensorEntity):
    """A sensor of the run manager."""

    entity_description: AutoTagSensorEntityDescription

    # Bulky, and of no use in history: the recorder skips them.
    _unrecorded_attributes = frozenset({"links", "planned_changes"})

    @property
    def native_value(self) -> StateType | datetime:
        """Value from the run manager's data."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details of the last run (on the last-run sensor only)."""
        return self.entity_description.attributes_fn(self.coordinator.data)
