"""Opt-in persistent notifications: a run failed, ended partial, or found new conflicts.

One notification per entry (`immich_autotag_<entry id>_run`), replaced by the next one that
needs attention, so they do not pile up; runs that need none leave it alone.
"""

from __future__ import annotations

from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

from .const import CONF_NOTIFY, DEFAULT_NOTIFY, DOMAIN
from .engine.outcome import RunResult, describe, run_result
from .engine.report import RunReport


def notification_id(entry_id: str) -> str:
    """The id of an entry's run notification."""
    return f"{DOMAIN}_{entry_id}_run"


def _conflicts(report: RunReport | None) -> int:
    return 0 if report is None else report.status_counts.get("conflict", 0)


def attention(report: RunReport, previous: RunReport | None) -> str | None:
    """Why this run needs a person (None when it does not).

    `previous` is the last run before it that read the whole library.
    """
    result = run_result(report)
    if result in (RunResult.FAILED, RunResult.DRY_RUN_FAILED):
        return "The run failed."
    if result is RunResult.PARTIAL:
        return "Some changes could not be applied; the next run retries them."
    if not report.dry_run and _conflicts(report) > _conflicts(previous):
        new = _conflicts(report) - _conflicts(previous)
        return f"{new:,} new conflict{'' if new == 1 else 's'} (assets matching several rules)."
    return None


@callback
def async_notify_outcome(
    hass: HomeAssistant, entry: ConfigEntry, report: RunReport, previous: RunReport | None
) -> None:
    """Raise the entry's notification when the option is on and the run needs attention."""
    if not entry.options.get(CONF_NOTIFY, DEFAULT_NOTIFY):
        return
    reason = attention(report, previous)
    if reason is None:
        return
    persistent_notification.async_create(
        hass,
        f"{reason}\n\nLast run of {entry.title}: {describe(report)}.",
        title=f"Immich AutoTag ({entry.title})",
        notification_id=notification_id(entry.entry_id),
    )
