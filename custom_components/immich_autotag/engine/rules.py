"""The typed, immutable rules a run follows (docs/rules.md), `RulesError`, and their summary.

Parsing lives in `rules_loader.py`; `RulesError` is raised there for YAML and for meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

TEMP_ALBUM_SUFFIX = "-autotag-temp-unclassified"
# The description of every album the tool creates: how it later knows an album is its own
# (a duplicate of it may be merged away). An album whose description was changed is the user's.
CREATED_BY = "Created by Immich AutoTag"


class RulesError(ValueError):
    """Invalid rules: `.message`, `.path` (e.g. `classification.rules[1]`), `.line` (1-based)."""

    def __init__(self, message: str, path: str = "", line: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        super().__init__(self._render())

    def _render(self) -> str:
        where = ", ".join(
            part for part in (f"line {self.line}" if self.line else "", self.path) if part
        )
        return f"{where}: {self.message}" if where else self.message

    def __str__(self) -> str:
        return self._render()


def is_temp_album(name: str) -> bool:
    """Temporary (tool-owned) albums end with the temp suffix."""
    return name.endswith(TEMP_ALBUM_SUFFIX)


class TextPattern(Protocol):
    """A user regular expression: `patterns.UserPattern` (bounded cost) or a `re.Pattern`."""

    @property
    def pattern(self) -> str:
        """The source text."""
        ...

    def match(self, string: str, /) -> object:
        """Truthy when it matches at the start."""
        ...

    def search(self, string: str, /) -> object:
        """Truthy when it matches anywhere."""
        ...


@dataclass(frozen=True, slots=True)
class Rule:
    """Criteria an asset can match: tags (closure), album name patterns, asset links."""

    tag_names: tuple[str, ...] = ()
    album_name_patterns: tuple[TextPattern, ...] = ()
    asset_links: frozenset[str] = frozenset()  # asset UUIDs (lower case)
    require_all: bool = False
    allow_multiple_albums: bool = False
    label: str = ""  # where it came from, for reports: "classification.rules[1]"

    def album_matches(self, album_name: str) -> bool:
        """`re.match` semantics: anchored at the start."""
        return any(p.match(album_name) for p in self.album_name_patterns)


class ConversionMode(StrEnum):
    """Move removes the matched source tags (and albums if asked); copy keeps them."""

    MOVE = "move"
    COPY = "copy"


@dataclass(frozen=True, slots=True)
class Conversion:
    """Phase 1: assets matching `source` get the destination tags/albums."""

    source: Rule
    destination_albums: tuple[str, ...] = ()
    destination_tags: tuple[str, ...] = ()
    mode: ConversionMode = ConversionMode.MOVE
    remove_from_source_albums: bool = False


@dataclass(frozen=True, slots=True)
class Filters:
    """Which assets a run may change."""

    filter_in: tuple[Rule, ...] = ()
    filter_out: tuple[Rule, ...] = ()


@dataclass(frozen=True, slots=True)
class Classification:
    """Phase 5 rules and output tags (None disables a tag)."""

    rules: tuple[Rule, ...] = ()
    unknown_tag: str | None = "autotag_output_unknown"
    conflict_tag: str | None = "autotag_output_conflict"


@dataclass(frozen=True, slots=True)
class FolderAlbums:
    """Album detection from dated folders in `originalPath`."""

    enabled: bool = False
    excluded_paths: tuple[TextPattern, ...] = ()  # case-insensitive, searched


@dataclass(frozen=True, slots=True)
class DateCorrection:
    """Phase 2 options; thresholds default to the predecessor's."""

    enabled: bool = True
    timezone: str = "UTC"  # IANA name, validated
    large_gap_days: float = 1.1
    min_gap_hours: float = 20.0
    midnight_tolerance_hours: float = 4.0


@dataclass(frozen=True, slots=True)
class DuplicateProcessing:
    """Output tags of the duplicate phases, and date correction."""

    album_conflict_tag: str | None = "autotag_output_duplicate_asset_album_conflict"
    classification_conflict_tag: str | None = (
        "autotag_output_duplicate_asset_classification_conflict"
    )
    classification_conflict_prefix: str | None = (
        "autotag_output_duplicate_asset_classification_conflict_"
    )
    album_detection_conflict_tag: str | None = "autotag_output_album_detection_conflict"
    date_correction: DateCorrection = field(default_factory=DateCorrection)


@dataclass(frozen=True, slots=True)
class AlbumDateConsistency:
    """Phase 7 options."""

    enabled: bool = True
    threshold_days: int = 180
    mismatch_tag: str = "autotag_output_album_date_mismatch"


@dataclass(frozen=True, slots=True)
class UserGroup:
    """A named group of user emails."""

    name: str
    members: tuple[str, ...]


class Access(StrEnum):
    """Access a selection rule grants; `admin` is an alias of editor."""

    VIEW = "view"
    EDIT = "edit"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class SelectionRule:
    """Albums whose name holds `keyword` as a whole word are shared with `groups`."""

    name: str
    keyword: str
    groups: tuple[str, ...]
    access: Access = Access.VIEW


@dataclass(frozen=True, slots=True)
class AlbumPermissions:
    """Phase 8 options."""

    enabled: bool = False
    user_groups: tuple[UserGroup, ...] = ()
    selection_rules: tuple[SelectionRule, ...] = ()


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """The predecessor's `server` block: only a fallback for the headless runner."""

    host: str
    port: int | None
    api_key: str

    @property
    def url(self) -> str:
        """Http URL from host and port (host may already carry a scheme)."""
        base = self.host if "://" in self.host else f"http://{self.host}"
        return f"{base}:{self.port}" if self.port else base


@dataclass(frozen=True, slots=True)
class Rules:
    """Everything a run follows."""

    filters: Filters = field(default_factory=Filters)
    conversions: tuple[Conversion, ...] = ()  # empty when disabled
    classification: Classification = field(default_factory=Classification)
    create_album_from_date_if_missing: bool = True
    folder_albums: FolderAlbums = field(default_factory=FolderAlbums)
    duplicates: DuplicateProcessing = field(default_factory=DuplicateProcessing)
    album_date_consistency: AlbumDateConsistency = field(default_factory=AlbumDateConsistency)
    album_permissions: AlbumPermissions = field(default_factory=AlbumPermissions)
    server: ServerSettings | None = None
    warnings: tuple[str, ...] = ()  # ignored predecessor keys etc.

    def all_rules(self) -> tuple[Rule, ...]:
        """Every Rule of the file: filters, conversion sources, classification."""
        return (
            self.filters.filter_in
            + self.filters.filter_out
            + tuple(c.source for c in self.conversions)
            + self.classification.rules
        )

    @property
    def classification_tags(self) -> frozenset[str]:
        """Tags named in any classification rule (phase 3 compares these)."""
        return frozenset(t for r in self.classification.rules for t in r.tag_names)

    def output_tags(self) -> frozenset[str]:
        """Tool-owned fixed output tags (excluding per-group conflict tags)."""
        d = self.duplicates
        names = (
            self.classification.unknown_tag,
            self.classification.conflict_tag,
            d.album_conflict_tag,
            d.classification_conflict_tag,
            d.album_detection_conflict_tag,
            self.album_date_consistency.mismatch_tag,
        )
        return frozenset(n for n in names if n)


def summarize_rules(rules: Rules) -> dict[str, object]:
    """What the rules do, for diagnostics: counts and switches, never names or patterns.

    Tag and album names, patterns, e-mails, the API key and the server host stay out.
    """
    every = rules.all_rules()
    permissions = rules.album_permissions
    dates = rules.duplicates.date_correction
    return {
        "filters": {
            "filter_in": len(rules.filters.filter_in),
            "filter_out": len(rules.filters.filter_out),
        },
        "conversions": len(rules.conversions),
        "classification_rules": len(rules.classification.rules),
        "criteria": {
            "tag_names": sum(len(r.tag_names) for r in every),
            "album_name_patterns": sum(len(r.album_name_patterns) for r in every),
            "asset_links": sum(len(r.asset_links) for r in every),
        },
        "create_album_from_date_if_missing": rules.create_album_from_date_if_missing,
        "folder_albums": {
            "enabled": rules.folder_albums.enabled,
            "excluded_paths": len(rules.folder_albums.excluded_paths),
        },
        "date_correction": {"enabled": dates.enabled, "timezone": dates.timezone},
        "album_date_consistency": {
            "enabled": rules.album_date_consistency.enabled,
            "threshold_days": rules.album_date_consistency.threshold_days,
        },
        "album_permissions": {
            "enabled": permissions.enabled,
            "user_groups": len(permissions.user_groups),
            "members": sum(len(g.members) for g in permissions.user_groups),
            "selection_rules": len(permissions.selection_rules),
        },
        "server_fallback": rules.server is not None,
        "warnings": len(rules.warnings),
    }
