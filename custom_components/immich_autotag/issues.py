"""The entry's rules and the repair issues that tell the user what to fix.

Each issue is per entry (`<kind>_<entry_id>`), raised when the problem is seen and deleted as
soon as it is gone: invalid rules, missing permissions, an unsupported Immich version (an error)
or one newer than tested (a warning), old output tags after a rules change (a warning).
Versions and permissions are checked at set-up and after every run, which also keeps the
device's software version in step. Only the old output tags have a fix flow (`repairs.py`,
a run that moves them); the user fixes the others in the options, in Immich or on the server.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir

from .const import (
    CONF_RULES,
    DOMAIN,
    OPTIONAL_PERMISSIONS,
    REQUIRED_PERMISSIONS,
    SLOW_READS,
)
from .engine.default_rules import default_rules_yaml
from .engine.permissions import Capabilities
from .engine.report import ErrorKind, RunReport
from .engine.rules import Rules
from .engine.rules_loader import validate_rules_text
from .immich.models import ApiKeyInfo, ServerInfo, ServerVersion, VersionSupport

ISSUE_INVALID_RULES = "invalid_rules"
ISSUE_MISSING_PERMISSIONS = "missing_permissions"
ISSUE_UNSUPPORTED_VERSION = "unsupported_version"
ISSUE_NEWER_VERSION = "newer_version"
ISSUE_RENAMED_OUTPUTS = "renamed_outputs"
ISSUES = (
    ISSUE_INVALID_RULES,
    ISSUE_MISSING_PERMISSIONS,
    ISSUE_UNSUPPORTED_VERSION,
    ISSUE_NEWER_VERSION,
    ISSUE_RENAMED_OUTPUTS,
)
MOVABLE = ("pending", "planned")  # old output tags a run with migrate_outputs would move


def issue_id(kind: str, entry_id: str) -> str:
    """Repair issue id of one entry."""
    return f"{kind}_{entry_id}"


def rules_text(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """The rules YAML of an entry (the default rules, in HA's time zone, when none saved)."""
    return str(entry.options.get(CONF_RULES) or default_rules_yaml(hass.config.time_zone))


@callback
def _async_set_issue(
    hass: HomeAssistant,
    kind: str,
    entry: ConfigEntry,
    severity: ir.IssueSeverity | None,
    placeholders: dict[str, str] | None = None,
    *,
    fixable: bool = False,
) -> None:
    """Raise the issue `kind` of `entry` (severity given) or delete it (None)."""
    iid = issue_id(kind, entry.entry_id)
    if severity is None:
        ir.async_delete_issue(hass, DOMAIN, iid)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        iid,
        is_fixable=fixable,
        severity=severity,
        data={"entry_id": entry.entry_id} if fixable else None,
        translation_key=kind,
        translation_placeholders={"title": entry.title, **(placeholders or {})},
    )


@callback
def async_check_rules(hass: HomeAssistant, entry: ConfigEntry) -> tuple[Rules | None, str]:
    """Parse the entry's rules; keep the `invalid_rules` issue in step."""
    rules, error = validate_rules_text(rules_text(hass, entry))
    if error is not None or rules is None:
        _async_set_issue(
            hass, ISSUE_INVALID_RULES, entry, ir.IssueSeverity.ERROR, {"error": str(error)}
        )
        return None, str(error)
    _async_set_issue(hass, ISSUE_INVALID_RULES, entry, None)
    return rules, ""


@callback
def async_valid_rules(hass: HomeAssistant, entry: ConfigEntry) -> Rules:
    """The entry's rules for a run or an action; invalid rules are the action's error."""
    rules, error = async_check_rules(hass, entry)
    if rules is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_rules",
            translation_placeholders={"title": entry.title, "error": error},
        )
    return rules


def features_off(key: ApiKeyInfo) -> list[str]:
    """What the key's missing permissions turn off, one line each (nothing for a full key)."""
    caps = Capabilities.from_permissions(key.permissions)
    lines = [f"runs fail: the API key lacks {p}" for p in sorted(key.missing(REQUIRED_PERMISSIONS))]
    if caps.read_only:
        lines.append("every run is a dry run: the API key has no write permission")
    else:
        lines.extend(caps.disabled())
    if key.missing(frozenset({"asset.statistics"})):
        lines.append(f"{SLOW_READS}: the API key lacks asset.statistics")
    return lines


@callback
def async_check_permissions(hass: HomeAssistant, entry: ConfigEntry, key: ApiKeyInfo) -> None:
    """Keep the `missing_permissions` issue in step with the key's permissions.

    An error when the key cannot read the library (runs fail), else a warning naming the
    features that are off.
    """
    missing = key.missing(REQUIRED_PERMISSIONS | OPTIONAL_PERMISSIONS)
    severity = None
    if missing:
        required = key.missing(REQUIRED_PERMISSIONS)
        severity = ir.IssueSeverity.ERROR if required else ir.IssueSeverity.WARNING
    placeholders = {
        "permissions": ", ".join(sorted(missing)),
        "features": "\n".join(f"- {line}" for line in features_off(key)),
    }
    _async_set_issue(hass, ISSUE_MISSING_PERMISSIONS, entry, severity, placeholders)


@callback
def async_check_version(
    hass: HomeAssistant, entry: ConfigEntry, version: ServerVersion | None, refused: str | None
) -> None:
    """Keep the version issues in step: `version` connected, or `refused` (its text) was not."""
    unsupported = ir.IssueSeverity.ERROR if refused is not None else None
    _async_set_issue(
        hass, ISSUE_UNSUPPORTED_VERSION, entry, unsupported, {"version": refused or ""}
    )
    newer = version is not None and version.support is VersionSupport.NEWER
    placeholders = {}
    if version is not None:
        placeholders = {
            "version": f"v{version.major}.{version.minor}",
            "tested": version.tested_up_to,
        }
    severity = ir.IssueSeverity.WARNING if newer else None
    _async_set_issue(hass, ISSUE_NEWER_VERSION, entry, severity, placeholders)


@callback
def async_follow_server(
    hass: HomeAssistant, entry: ConfigEntry, report: RunReport, server: ServerInfo | None
) -> None:
    """What a run found about the server: version and key issues, the device's version.

    `server` is what the run's connection learnt (None, or older, when it never connected).
    """
    if report.error_kind is ErrorKind.UNSUPPORTED_VERSION:
        async_check_version(hass, entry, None, report.server_version)
        return
    if not report.server_version or server is None:
        return  # the run did not reach the server
    async_check_version(hass, entry, server.version, None)
    async_check_permissions(hass, entry, server.api_key)
    registry = dr.async_get(hass)  # async_get_device(identifiers=) is deprecated in HA 2026.x
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if (DOMAIN, entry.entry_id) in device.identifiers and (
            device.sw_version != str(server.version)
        ):
            registry.async_update_device(device.id, sw_version=str(server.version))


def renamed_lines(items: list[dict[str, Any]]) -> str:
    """One Markdown line per old output tag (`RunReport.output_migration` items)."""
    lines = []
    for item in items:
        new = f"`{item['new']}`" if item.get("new") else "nothing (turned off)"
        lines.append(f"- `{item['old']}` → {new}: {item['assets']:,} assets")
    return "\n".join(lines)


@callback
def async_check_outputs(hass: HomeAssistant, entry: ConfigEntry, report: RunReport) -> None:
    """Keep the `renamed_outputs` issue in step with the old output tags a run found.

    Raised (fixable: `repairs.py`) while some can be moved; deleted when a run that looked
    found none left to move; a run that stopped before looking changes nothing, and so does an
    undo (it does not look: the next run finds the old tags an undo created again).
    """
    if not report.output_names or report.undo_of is not None:
        return
    movable = [item for item in report.output_migration if item["state"] in MOVABLE]
    severity = ir.IssueSeverity.WARNING if movable else None
    placeholders = {"tags": renamed_lines(movable), "count": str(len(movable))}
    _async_set_issue(
        hass, ISSUE_RENAMED_OUTPUTS, entry, severity, placeholders, fixable=bool(movable)
    )


@callback
def async_delete_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Delete every issue of a removed entry."""
    for kind in ISSUES:
        ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry_id))
