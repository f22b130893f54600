"""The Lovelace view of one entry, with that entry's entity ids (`immich_autotag.dashboard`).

`docs/dashboard.yaml` is this view for the development entry ("Me"); the action returns it
for any entry, with the ids the entity registry holds (renamed entities included), ready to
paste into a dashboard's raw configuration editor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .const import DOMAIN

# Entity description keys the view shows, by platform.
KEYS: dict[str, Platform] = {
    "status": Platform.SENSOR,
    "running": Platform.BINARY_SENSOR,
    "progress": Platform.SENSOR,
    "run": Platform.BUTTON,
    "dry_run": Platform.BUTTON,
    "cancel": Platform.BUTTON,
    "assets": Platform.SENSOR,
    "unclassified": Platform.SENSOR,
    "conflicts": Platform.SENSOR,
    "date_mismatches": Platform.SENSOR,
    "duplicate_conflicts": Platform.SENSOR,
    "last_run_result": Platform.SENSOR,
    "last_run": Platform.SENSOR,
    "last_run_duration": Platform.SENSOR,
    "last_run_changes": Platform.SENSOR,
    "last_run_api_requests": Platform.SENSOR,
}

REPORT = """\
{%- set result = '@last_run_result' -%}
{%- if states(result) in ['unknown', 'unavailable'] -%}
No run yet. Press **Run** or **Dry run** (or call `immich_autotag.run`).
{%- else -%}
{%- set dry = state_attr(result, 'dry_run') -%}
## {{ state_translated(result) }}
{{ 'A dry run: nothing was written; the counts show the library as it **would** be.'
   if dry else 'Applied: the counts show the library as the run left it.' }}
Finished {{ as_local(as_datetime(states('@last_run'))).strftime('%Y-%m-%d %H:%M') }},
{{ states('@last_run_duration') | float(0) | round(1) }} s.

| Change | {{ 'Planned' if dry else 'Applied' }} |
|:--|--:|
{%- for name, count in (state_attr('@last_run', 'changes') or {}).items() %}
| {{ name }} | {{ count }} |
{%- endfor %}
| **Total** | **{{ state_attr(result, 'changes_total') }}** |
{%- if state_attr(result, 'error') %}

**Error:** {{ state_attr(result, 'error') }}
{%- endif %}
{%- set links = state_attr(result, 'links') or [] %}
{%- if links %}

**Open in Immich:**
{%- for link in links[:12] %} [{{ link.name }}]({{ link.url }}){{ ',' if not loop.last }}
{%- endfor %}
{%- endif %}
{%- set planned = state_attr(result, 'planned_changes') or [] %}
{%- if planned %}

**Planned (first {{ planned | count }}):**
{%- for c in planned[:8] %}
- {{ c.kind | replace('_', ' ') }} **{{ c.get('target') or c.get('file_name') }}**
  {%- if c.get('url') %} — [{{ c.get('file_name') or 'asset' }}]({{ c.url }}){% endif %}
{%- endfor %}
{%- endif %}
{%- endif %}"""


def _tile(entity: str, **extra: Any) -> dict[str, Any]:
    return {"type": "tile", "entity": entity, **extra}


def _press(entity: str, name: str, icon: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "button",
        "entity": entity,
        "name": name,
        "icon": icon,
        "show_state": False,
        "tap_action": {
            "action": "perform-action",
            "perform_action": "button.press",
            "target": {"entity_id": entity},
            **extra,
        },
        "grid_options": {"columns": 4, "rows": 2},
    }


def _heading(text: str, icon: str) -> dict[str, Any]:
    return {"type": "heading", "heading": text, "heading_style": "title", "icon": icon}


def dashboard_view(ids: Mapping[str, str]) -> dict[str, Any]:
    """The view for an entry whose entities have the ids `ids` (description key -> id)."""
    confirm = {"confirmation": {"text": "Apply the rules to the Immich library now?"}}
    report = REPORT
    for key in sorted(ids, key=len, reverse=True):  # `last_run_result` before `last_run`
        report = report.replace(f"@{key}", ids[key])
    run = [
        _heading("Run", "mdi:play-circle-outline"),
        _tile(ids["last_run_result"], name="Last run", grid_options={"columns": 6}),
        _tile(ids["status"], name="Status", grid_options={"columns": 6}),
        {
            "type": "gauge",
            "entity": ids["progress"],
            "name": "Progress",
            "min": 0,
            "max": 100,
            "needle": False,
            "grid_options": {"columns": 12},
        },
        _press(ids["run"], "Run", "mdi:play", **confirm),
        _press(ids["dry_run"], "Dry run", "mdi:test-tube"),
        _press(ids["cancel"], "Cancel", "mdi:stop"),
    ]
    counts = [
        ("assets", "Assets in scope", "mdi:image-multiple"),
        ("unclassified", "Unclassified", "mdi:help-box-multiple-outline"),
        ("conflicts", "Conflicts", "mdi:alert-box-outline"),
        ("date_mismatches", "Date mismatches", "mdi:calendar-alert"),
        ("duplicate_conflicts", "Duplicate conflicts", "mdi:content-duplicate"),
    ]
    library = [
        _heading("Library", "mdi:image-multiple-outline"),
        *(_tile(ids[k], name=n, icon=i, grid_options={"columns": 12}) for k, n, i in counts),
        {
            "type": "history-graph",
            "title": "Left to sort",
            "hours_to_show": 168,
            "entities": [
                {"entity": ids["unclassified"], "name": "Unclassified"},
                {"entity": ids["conflicts"], "name": "Conflicts"},
                {"entity": ids["date_mismatches"], "name": "Date mismatches"},
            ],
            "grid_options": {"columns": 12},
        },
    ]
    last = [
        _heading("Last run", "mdi:history"),
        {"type": "markdown", "content": report},
        {
            "type": "entities",
            "state_color": False,
            "entities": [
                {"entity": ids["last_run"], "name": "Finished", "format": "relative"},
                {"entity": ids["last_run_changes"], "name": "Changes"},
                {"entity": ids["last_run_api_requests"], "name": "API requests"},
            ],
        },
    ]
    return {
        "title": "Immich AutoTag",
        "path": "immich-autotag",
        "icon": "mdi:image-multiple",
        "type": "sections",
        "max_columns": 3,
        "sections": [
            {"type": "grid", "cards": run},
            {"type": "grid", "cards": library},
            {"type": "grid", "cards": last},
        ],
    }


def entry_entity_ids(hass: HomeAssistant, unique_id: str) -> dict[str, str]:
    """The entity ids of an entry's entities, by description key (from the registry)."""
    registry = er.async_get(hass)
    ids: dict[str, str] = {}
    for key, platform in KEYS.items():
        entity_id = registry.async_get_entity_id(platform, DOMAIN, f"{unique_id}_{key}")
        ids[key] = entity_id or f"{platform}.{DOMAIN}_{key}"  # not registered (yet)
    return ids
