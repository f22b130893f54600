"""The state entities read and what a loaded entry holds (its typed `runtime_data`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

from .engine.report import RunReport

if TYPE_CHECKING:
    from .coordinator import AutoTagCoordinator


class RunState(StrEnum):
    """What the status sensor shows."""

    IDLE = "idle"
    LOADING = "loading"
    PLANNING = "planning"
    APPLYING = "applying"
    CANCELLING = "cancelling"  # a cancel was asked for; the run stops at the next request
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True)
class AutoTagData:
    """The state entities read (pushed on every change, progress at most once a second)."""

    state: RunState
    running: bool
    dry_run: bool | None  # of the run in progress
    progress: float | None  # percent
    last_report: RunReport | None
    last_complete_report: RunReport | None  # last run that read the library to the end
    new_assets: int | None = None  # uploaded since the last run (watcher.py), None: not known


@dataclass(kw_only=True)
class ImmichAutoTagRuntimeData:
    """What a loaded entry holds."""

    coordinator: AutoTagCoordinator


type ImmichAutoTagConfigEntry = ConfigEntry[ImmichAutoTagRuntimeData]
