"""The voluptuous schema of the rules file: its sections and what each key takes.

Leaf validators and the `Block`/`ListOf` combinators are in `rules_values.py`; `filters:`
with nothing after it is fine (blocks and lists accept null as "empty").
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from .rules_values import (
    Block,
    ListOf,
    Validator,
    access,
    album_name,
    amount,
    anything,
    asset_link,
    boolean,
    count,
    email,
    mode,
    optional_tag,
    port,
    tag_name,
    tag_prefix,
    text,
    timezone,
    user_regex,
    user_regex_ignorecase,
)

RULE_CRITERIA = ("tag_names", "album_name_patterns", "asset_links")


def _rule_has_criterion(rule: dict[str, Any]) -> None:
    if not any(rule.get(key) for key in RULE_CRITERIA):
        raise vol.Invalid("a rule needs at least one of " + ", ".join(RULE_CRITERIA))


def _destination_has_target(destination: dict[str, Any]) -> None:
    if not destination.get("album_names") and not destination.get("tag_names"):
        raise vol.Invalid("a destination needs album_names or tag_names (at least one)")


def _groups_not_empty(rule: dict[str, Any]) -> None:
    if not rule.get("groups"):
        raise vol.Invalid("a selection rule needs at least one group")


_DESC = vol.Optional("description")

RULE = Block(
    {
        vol.Optional("tag_names"): ListOf(tag_name),
        vol.Optional("album_name_patterns"): ListOf(user_regex),
        vol.Optional("asset_links"): ListOf(asset_link),
        vol.Optional("require_all"): boolean,
        vol.Optional("allow_multiple_albums"): boolean,
        _DESC: anything,
    },
    _rule_has_criterion,
)

CONVERSION = Block(
    {
        vol.Required("source"): RULE,
        vol.Required("destination"): Block(
            {
                vol.Optional("album_names"): ListOf(album_name),
                vol.Optional("tag_names"): ListOf(tag_name),
                _DESC: anything,
            },
            _destination_has_target,
        ),
        vol.Optional("mode"): mode,
        vol.Optional("remove_from_source_albums"): boolean,
        _DESC: anything,
    }
)

DATE_CORRECTION = Block(
    {
        vol.Optional("enabled"): boolean,
        vol.Optional("extraction_timezone"): timezone,
        vol.Optional("large_gap_days"): amount,
        vol.Optional("min_gap_hours"): amount,
        vol.Optional("midnight_tolerance_hours"): amount,
        _DESC: anything,
    }
)

ALBUM_PERMISSIONS = Block(
    {
        vol.Optional("enabled"): boolean,
        vol.Optional("user_groups"): ListOf(
            Block(
                {
                    vol.Required("name"): text,
                    vol.Required("members"): ListOf(email),
                    _DESC: anything,
                }
            )
        ),
        vol.Optional("selection_rules"): ListOf(
            Block(
                {
                    vol.Required("name"): text,
                    vol.Required("keyword"): text,
                    vol.Required("groups"): ListOf(text),
                    vol.Optional("access"): access,
                    _DESC: anything,
                },
                _groups_not_empty,
            )
        ),
        vol.Optional("log_unmatched"): anything,
        _DESC: anything,
    }
)

RULES_FILE = Block(
    {
        _DESC: anything,
        vol.Optional("server"): Block(
            {
                vol.Required("host"): text,
                vol.Optional("port"): port,
                vol.Required("api_key"): text,
                _DESC: anything,
            }
        ),
        vol.Optional("enable_album_name_strip"): anything,
        vol.Optional("skip"): anything,
        vol.Optional("performance"): anything,
        vol.Optional("filters"): Block(
            {
                vol.Optional("filter_in"): ListOf(RULE),
                vol.Optional("filter_out"): ListOf(RULE),
                _DESC: anything,
            }
        ),
        vol.Optional("conversions"): Block(
            {
                vol.Optional("enabled"): boolean,
                vol.Optional("conversions"): ListOf(CONVERSION),
                _DESC: anything,
            }
        ),
        vol.Optional("classification"): Block(
            {
                vol.Optional("rules"): ListOf(RULE),
                vol.Optional("autotag_unknown"): optional_tag,
                vol.Optional("autotag_conflict"): optional_tag,
                _DESC: anything,
            }
        ),
        vol.Optional("create_album_from_date_if_missing"): boolean,
        vol.Optional("album_detection_from_folders"): Block(
            {
                vol.Optional("enabled"): boolean,
                vol.Optional("excluded_paths"): ListOf(user_regex_ignorecase),
                _DESC: anything,
            }
        ),
        vol.Optional("duplicate_processing"): Block(
            {
                vol.Optional("autotag_album_conflict"): optional_tag,
                vol.Optional("autotag_classification_conflict"): optional_tag,
                vol.Optional("autotag_classification_conflict_prefix"): tag_prefix,
                vol.Optional("autotag_album_detection_conflict"): optional_tag,
                vol.Optional("date_correction"): DATE_CORRECTION,
                _DESC: anything,
            }
        ),
        vol.Optional("album_date_consistency"): Block(
            {
                vol.Optional("enabled"): boolean,
                vol.Optional("threshold_days"): count,
                vol.Optional("autotag_album_date_mismatch"): tag_name,
                _DESC: anything,
            }
        ),
        vol.Optional("album_permissions"): ALBUM_PERMISSIONS,
    }
)


def shape_at(path: tuple[object, ...]) -> Validator | None:
    """The validator the schema applies at `path` (None when the path leaves the schema)."""
    current: Validator | None = RULES_FILE
    for part in path:
        if isinstance(current, Block):
            current = current.field(part)
        elif isinstance(current, ListOf) and isinstance(part, int):
            current = current.item
        else:
            return None
    return current
