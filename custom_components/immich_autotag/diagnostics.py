"""Diagnostics: entry (secrets redacted), server, options summary, last run, request stats."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_KEY, CONF_HOST, CONF_URL
from homeassistant.core import HomeAssistant

from .connection import entry_limits
from .const import (
    CONF_MAX_CONCURRENCY,
    CONF_MAX_RPS,
    CONF_RULES,
    CONF_RUN_INTERVAL,
    DEFAULT_RUN_INTERVAL,
)
from .data import ImmichAutoTagConfigEntry
from .engine.rules import summarize_rules
from .engine.rules_loader import validate_rules_text
from .issues import rules_text

# Secrets and personal data: the key, where the server is, who the user is, what is in the
# library (names, ids and links in reports).
TO_REDACT = {
    CONF_API_KEY,
    CONF_URL,
    CONF_HOST,
    CONF_RULES,
    "title",
    "unique_id",
    "links",
    "errors",
    "warnings",
    "planned_changes",
    "error_message",
    "user_id",  # the Immich user (as unique_id)
    "output_names",  # tag names the user chose, as the rules' names and patterns
    "output_migration",
    "skipped",  # an undo's skipped changes: tag and album names
}


def _rules_summary(hass: HomeAssistant, entry: ImmichAutoTagConfigEntry) -> dict[str, Any]:
    """Whether the rules are the defaults and valid, and what they do (no names or patterns)."""
    text = rules_text(hass, entry)
    rules, error = validate_rules_text(text)
    summary: dict[str, Any] = {
        "custom": bool(entry.options.get(CONF_RULES)),
        "lines": len(text.splitlines()),
        "valid": error is None,
    }
    if error is not None:
        summary["error_line"] = error.line
        summary["error_path"] = error.path
    if rules is not None:
        summary |= summarize_rules(rules)
    return summary


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant,
    entry: ImmichAutoTagConfigEntry,
) -> dict[str, Any]:
    """Diagnostics of one entry; the API key, URL and library contents never appear."""
    coordinator = entry.runtime_data.coordinator
    connection = coordinator.connection
    server = connection.server
    stats = connection.client.stats
    limiter = connection.limiter
    last = coordinator.last_report
    limits = entry_limits(entry)
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "server": None
        if server is None
        else {
            "version": str(server.version),
            "api_mode": str(server.version.mode),
            "key_permissions": sorted(server.api_key.permissions),
        },
        "options": {
            "rules": _rules_summary(hass, entry),
            CONF_RUN_INTERVAL: entry.options.get(CONF_RUN_INTERVAL, DEFAULT_RUN_INTERVAL),
            CONF_MAX_CONCURRENCY: limits[0],
            CONF_MAX_RPS: limits[1],
        },
        "run": {
            "state": str(coordinator.data.state),
            "running": coordinator.data.running,
            "progress": coordinator.data.progress,
            "stored_reports": len(coordinator.reports),
            "album_cache_size": len(coordinator.album_cache),
        },
        "last_report": async_redact_data(last.to_dict(), TO_REDACT) if last else None,
        "limiter": {
            "max_concurrency": limiter.max_concurrency,
            "max_rps": limiter.max_rps,
            **asdict(limiter.stats),
        },
        "requests": {**asdict(stats), "total": stats.total},
    }
