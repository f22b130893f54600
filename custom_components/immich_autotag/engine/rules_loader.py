"""Rules file -> typed `Rules` (docs/rules.md): validation with key paths and lines, warnings."""

from __future__ import annotations

import codecs
import difflib
import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeAlias

import voluptuous as vol
from yaml.nodes import Node

from .default_rules import DEFAULT_RULES_YAML
from .patterns import UserPattern
from .rules import (
    Access,
    AlbumDateConsistency,
    AlbumPermissions,
    Classification,
    Conversion,
    ConversionMode,
    DateCorrection,
    DuplicateProcessing,
    Filters,
    FolderAlbums,
    Rule,
    Rules,
    RulesError,
    SelectionRule,
    ServerSettings,
    UserGroup,
)
from .rules_schema import RULES_FILE, shape_at
from .rules_values import Block, ListOf, Validator, kind
from .rules_yaml import KeyPath, format_path, line_of, parse_yaml

__all__ = [
    "DEFAULT_RULES_YAML",
    "load_default_rules",
    "load_rules",
    "load_rules_file",
    "validate_rules_text",
]

_IGNORED_TOP = {
    "server": "used only by the headless runner (fallback for --url/--api-key); "
    "ignored in Home Assistant",
    "enable_album_name_strip": "has no effect; ignored",
    "skip": "not needed (every run covers the whole library); ignored",
    "performance": "not needed; ignored",
}
Locate: TypeAlias = Callable[[KeyPath], int | None]
_KEYWORD_SEPARATORS = re.compile(r"[\s\-_.]")


def load_rules(text: str) -> Rules:
    """Parse and validate rules text; empty text (or only comments) gives the defaults."""
    data, root = parse_yaml(text)
    if data is None:
        return load_default_rules()
    return _load_document(data, root)


@functools.cache
def load_default_rules() -> Rules:
    """The default rules (`DEFAULT_RULES_YAML`), parsed once."""
    data, root = parse_yaml(DEFAULT_RULES_YAML)
    return _load_document(data, root)


def load_rules_file(path: Path) -> Rules:
    """Load a rules file; unreadable files are a `RulesError` too.

    UTF-8 (with or without a byte order mark), or UTF-16 with its byte order mark (what some
    Windows editors save as "Unicode"), as YAML allows.
    """
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise RulesError(f"cannot read rules file {str(path)!r}: {err}") from None
    utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    try:
        text = raw.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise RulesError(
            f"rules file {str(path)!r} is not UTF-8 text (byte 0x{raw[err.start]:02x} on line"
            f" {line}): save it as UTF-8"
        ) from None
    return load_rules(text)


def validate_rules_text(text: str) -> tuple[Rules | None, RulesError | None]:
    """For the options flow: `(rules, None)` or `(None, error)`."""
    try:
        return load_rules(text), None
    except RulesError as err:
        return None, err


def _load_document(data: Any, root: Node | None) -> Rules:
    if not isinstance(data, dict):
        raise RulesError(
            f"the rules must be a mapping of keys (like 'classification:'), got {kind(data)}",
            "",
            line_of(root, ()),
        )
    try:
        valid = RULES_FILE(data)
    except vol.MultipleInvalid as err:
        raise _first_error(err.errors, data, root) from None
    except vol.Invalid as err:
        raise _first_error([err], data, root) from None
    return _build(valid, functools.partial(line_of, root))


def _present(data: Any, path: KeyPath) -> bool:
    for part in path:
        in_dict = isinstance(data, dict) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_dict or in_list):
            return False
        data = data[part]
    return True


def _to_rules_error(err: vol.Invalid, data: Any, root: Node | None) -> RulesError:
    # voluptuous reports a missing required key with its marker in the path
    path = tuple(getattr(part, "schema", part) for part in err.path)
    message = str(err.msg)
    parent = shape_at(path[:-1]) if path else None
    if isinstance(parent, Block):
        key = path[-1]
        if parent.field(key) is None:
            allowed = parent.keys()
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "allowed: " + ", ".join(allowed)
            message = f"unknown key {key!r} ({hint})"
        elif not _present(data, path):
            message = f"required key {key!r} is missing"
    return RulesError(message, format_path(path), line_of(root, path))


def _first_error(errors: list[vol.Invalid], data: Any, root: Node | None) -> RulesError:
    converted = [_to_rules_error(err, data, root) for err in errors]
    return min(converted, key=lambda e: (e.line or 0, e.path))


def _description_warnings(
    value: Any, shape: Validator | None, path: tuple[object, ...]
) -> list[str]:
    out: list[str] = []
    if isinstance(shape, Block) and isinstance(value, dict):
        for key, item in value.items():
            if key == "description":
                out.append(f"{format_path((*path, key))}: ignored (free text)")
            elif path or key not in _IGNORED_TOP:
                out += _description_warnings(item, shape.field(key), (*path, key))
    elif isinstance(shape, ListOf) and isinstance(value, list):
        for index, item in enumerate(value):
            out += _description_warnings(item, shape.item, (*path, index))
    return out


def _warnings(valid: dict[str, Any]) -> tuple[str, ...]:
    out = [f"{key}: {why}" for key, why in _IGNORED_TOP.items() if key in valid]
    if "log_unmatched" in (valid.get("album_permissions") or {}):
        out.append("album_permissions.log_unmatched: ignored (unmatched albums are untouched)")
    out += _description_warnings(valid, RULES_FILE, ())
    for index, rule in enumerate((valid.get("album_permissions") or {}).get("selection_rules", [])):
        if _KEYWORD_SEPARATORS.search(rule["keyword"]):
            out.append(
                f"album_permissions.selection_rules[{index}].keyword: {rule['keyword']!r} can "
                "never match: album names are split into words on spaces, '-', '_' and '.'"
            )
    return tuple(out)


def _labelled(patterns: list[UserPattern], path: str) -> tuple[UserPattern, ...]:
    """Patterns named by their key path (a pattern too slow at run time names it)."""
    return tuple(p.labelled(f"{path}[{i}]") for i, p in enumerate(patterns))


def _rule(raw: dict[str, Any], label: str) -> Rule:
    return Rule(
        tag_names=tuple(raw.get("tag_names", ())),
        album_name_patterns=_labelled(
            raw.get("album_name_patterns", []), f"{label}.album_name_patterns"
        ),
        asset_links=frozenset(raw.get("asset_links", ())),
        require_all=raw.get("require_all", False),
        allow_multiple_albums=raw.get("allow_multiple_albums", False),
        label=label,
    )


def _rules(raws: list[dict[str, Any]], path: str) -> tuple[Rule, ...]:
    return tuple(_rule(raw, f"{path}[{i}]") for i, raw in enumerate(raws))


def _conversions(block: dict[str, Any]) -> tuple[Conversion, ...]:
    if not block.get("enabled", True):
        return ()
    out = []
    for i, raw in enumerate(block.get("conversions", [])):
        destination = raw["destination"]
        out.append(
            Conversion(
                source=_rule(raw["source"], f"conversions.conversions[{i}].source"),
                destination_albums=tuple(destination.get("album_names", ())),
                destination_tags=tuple(destination.get("tag_names", ())),
                mode=raw.get("mode", ConversionMode.MOVE),
                remove_from_source_albums=raw.get("remove_from_source_albums", False),
            )
        )
    return tuple(out)


def _permissions(block: dict[str, Any], locate: Locate) -> AlbumPermissions:
    groups: dict[str, UserGroup] = {}
    for i, raw in enumerate(block.get("user_groups", [])):
        if raw["name"] in groups:
            path: tuple[object, ...] = ("album_permissions", "user_groups", i, "name")
            raise RulesError(
                f"group {raw['name']!r} is defined twice", format_path(path), locate(path)
            )
        groups[raw["name"]] = UserGroup(name=raw["name"], members=tuple(raw["members"]))
    selections = []
    for i, raw in enumerate(block.get("selection_rules", [])):
        for j, group in enumerate(raw["groups"]):
            if group not in groups:
                path = ("album_permissions", "selection_rules", i, "groups", j)
                known = ", ".join(groups) or "none"
                raise RulesError(
                    f"unknown group {group!r} (defined in user_groups: {known})",
                    format_path(path),
                    locate(path),
                )
        selections.append(
            SelectionRule(
                name=raw["name"],
                keyword=raw["keyword"],
                groups=tuple(raw["groups"]),
                access=raw.get("access", Access.VIEW),
            )
        )
    return AlbumPermissions(
        enabled=block.get("enabled", False),
        user_groups=tuple(groups.values()),
        selection_rules=tuple(selections),
    )


def _with(default: Any, raw: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Dataclass kwargs: `names` maps YAML keys to fields; absent keys keep `default`'s."""
    return {field: raw.get(key, getattr(default, field)) for key, field in names.items()}


def _build(valid: dict[str, Any], locate: Locate) -> Rules:
    filters = valid.get("filters") or {}
    classification = valid.get("classification") or {}
    folders = valid.get("album_detection_from_folders") or {}
    duplicates = valid.get("duplicate_processing") or {}
    dates = duplicates.get("date_correction") or {}
    consistency = valid.get("album_date_consistency") or {}
    server = valid.get("server")
    base = Rules()
    date_names = {"enabled": "enabled", "extraction_timezone": "timezone"}
    date_names |= {k: k for k in ("large_gap_days", "min_gap_hours", "midnight_tolerance_hours")}
    return Rules(
        filters=Filters(
            filter_in=_rules(filters.get("filter_in", []), "filters.filter_in"),
            filter_out=_rules(filters.get("filter_out", []), "filters.filter_out"),
        ),
        conversions=_conversions(valid.get("conversions") or {}),
        classification=Classification(
            rules=_rules(classification.get("rules", []), "classification.rules"),
            **_with(
                base.classification,
                classification,
                {"autotag_unknown": "unknown_tag", "autotag_conflict": "conflict_tag"},
            ),
        ),
        create_album_from_date_if_missing=valid.get(
            "create_album_from_date_if_missing", base.create_album_from_date_if_missing
        ),
        folder_albums=FolderAlbums(
            enabled=folders.get("enabled", base.folder_albums.enabled),
            excluded_paths=_labelled(
                folders.get("excluded_paths", []), "album_detection_from_folders.excluded_paths"
            ),
        ),
        duplicates=DuplicateProcessing(
            date_correction=DateCorrection(
                **_with(base.duplicates.date_correction, dates, date_names)
            ),
            **_with(
                base.duplicates,
                duplicates,
                {
                    "autotag_album_conflict": "album_conflict_tag",
                    "autotag_classification_conflict": "classification_conflict_tag",
                    "autotag_classification_conflict_prefix": "classification_conflict_prefix",
                    "autotag_album_detection_conflict": "album_detection_conflict_tag",
                },
            ),
        ),
        album_date_consistency=AlbumDateConsistency(
            **_with(
                base.album_date_consistency,
                consistency,
                {
                    "enabled": "enabled",
                    "threshold_days": "threshold_days",
                    "autotag_album_date_mismatch": "mismatch_tag",
                },
            )
        ),
        album_permissions=_permissions(valid.get("album_permissions") or {}, locate),
        server=ServerSettings(
            host=server["host"].strip(), port=server.get("port"), api_key=server["api_key"]
        )
        if server is not None
        else None,
        warnings=_warnings(valid),
    )
