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

from .coordinator import AutoTagData, ImmichAutoTagConfigEntry, RunState
from .engine.report import RunReport
from .entity import AutoTagEntity

PARALLEL_UPDATES = 0  # state is pushed by the run manager


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


def _last_run_attributes(data: AutoTagData) -> dict[str, Any] | None:
    """What the last run was and did, for dashboards and automations."""
    report = data.last_report
    if report is None:
        return None
    return {
        "status": str(report.status),
        "dry_run": report.dry_run,
        "changes": dict(report.changes),
        "failed_changes": dict(report.failed_changes),
        "repaired_after_reread": report.repaired_after_reread,
        "errors": report.errors_total,
        "warnings": len(report.warnings),
    }


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
    AutoTagSensorEntityDescription(
        key="assets",
        translation_key="assets",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_library(lambda r: r.assets_in_scope),
    ),
    AutoTagSensorEntityDescription(
        key="unclassified",
        translation_key="unclassified",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_library(lambda r: r.status_counts.get("unclassified", 0)),
    ),
    AutoTagSensorEntityDescription(
        key="conflicts",
        translation_key="conflicts",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_library(lambda r: r.status_counts.get("conflict", 0)),
    ),
    AutoTagSensorEntityDescription(
        key="date_mismatches",
        translation_key="date_mismatches",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_library(lambda r: r.date_mismatches),
    ),
    AutoTagSensorEntityDescription(
        key="duplicate_conflicts",
        translation_key="duplicate_conflicts",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_library(lambda r: r.duplicate_conflicts),
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
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_last_run(lambda r: r.changes_total),
    ),
    AutoTagSensorEntityDescription(
        key="last_run_api_requests",
        translation_key="last_run_api_requests",
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

    @property
    def native_value(self) -> StateType | datetime:
        """Value from the run manager's data."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Details of the last run (on the last-run sensor only)."""
        return self.entity_description.attributes_fn(self.coordinator.data)
