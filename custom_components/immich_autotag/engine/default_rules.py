r"""The default rules text (docs/rules.md#keys): pre-fills the options flow, used when empty."""

from typing import Final

DEFAULT_RULES_YAML: Final = r"""# Immich AutoTag rules (YAML).
# The format of immich-autotag's config.yaml: an existing config.yaml works unchanged
# (keys this product does not need are ignored with a warning). Clear the text to get
# these defaults back.

# Which assets a run may change. Each entry is a rule (see "classification").
filters:
  filter_in: []   # if not empty, only assets matching one of these rules
  filter_out: []  # assets matching any of these rules are left alone

# Conversions run first, in order: assets matching `source` get the destination tags
# and albums (albums are created when missing). `move` then removes the matched tags.
conversions:
  enabled: true
  conversions: []
  # - source: {tag_names: [meme]}
  #   destination: {album_names: [autotag_input_meme], tag_names: []}
  #   mode: move                        # move | copy
  #   remove_from_source_albums: false  # move: also take assets out of matched albums

# An asset matching exactly one rule is classified; none: unclassified; two or more:
# in conflict. A rule has (at least one of):
#   tag_names            full tag paths; a tag also matches its sub-tags (a/b matches a/b/c)
#   album_name_patterns  Python regular expressions, matched at the start of album names
#   asset_links          asset ids or Immich URLs like https://immich.example/photos/<id>
# and the options require_all (every listed kind must match; default false) and
# allow_multiple_albums (an asset may sit in several matching albums; default false).
classification:
  rules:
    - {tag_names: [autotag_input_meme], album_name_patterns: ['^autotag_input_meme$']}
    - tag_names: [autotag_input_adult_meme]
      album_name_patterns: ['^autotag_input_adult_meme$']
    - tag_names: [autotag_input_pending_review]
      album_name_patterns: ['^autotag_input_pending_review$']
    - {tag_names: [autotag_input_ignore], album_name_patterns: ['^autotag_input_ignore$']}
    - {tag_names: [autotag_input_broken], album_name_patterns: ['^autotag_input_broken$']}
    # Dated event albums: "2023-07 Holidays", "2024-05-12 Birthday".
    - {album_name_patterns: ['^\d{4}-\d{2}'], allow_multiple_albums: false}
  autotag_unknown: autotag_output_unknown    # tag of unclassified assets (null: no tag)
  autotag_conflict: autotag_output_conflict  # tag of conflicting assets (null: no tag)

# Unclassified assets wait in per-day albums "YYYY-MM-DD-autotag-temp-unclassified".
create_album_from_date_if_missing: true

# Put unclassified assets into the album named after their dated folder on disk
# (".../2023-07-14 Beach/IMG_1.jpg"); paths matching excluded_paths are skipped.
album_detection_from_folders:
  enabled: false
  excluded_paths: [whatsapp]  # regular expressions, case-insensitive

duplicate_processing:
  autotag_album_conflict: autotag_output_duplicate_asset_album_conflict
  autotag_classification_conflict: autotag_output_duplicate_asset_classification_conflict
  autotag_classification_conflict_prefix: autotag_output_duplicate_asset_classification_conflict_
  autotag_album_detection_conflict: autotag_output_album_detection_conflict
  # Repair capture dates from file names (Android, iPhone, WhatsApp) and duplicates.
  date_correction:
    enabled: true
    extraction_timezone: UTC  # your IANA time zone, e.g. Europe/Madrid
    # large_gap_days: 1.1
    # min_gap_hours: 20
    # midnight_tolerance_hours: 4

# Tag assets whose date lies more than threshold_days outside their dated album.
album_date_consistency:
  enabled: true
  threshold_days: 180
  autotag_album_date_mismatch: autotag_output_album_date_mismatch

# Share albums whose name contains a keyword (a whole word) with groups of users.
album_permissions:
  enabled: false
  user_groups: []
  selection_rules: []
  # user_groups:
  #   - {name: family, members: [mum@example.com, dad@example.com]}
  # selection_rules:
  #   - {name: share family, keyword: family, groups: [family], access: view}  # view|edit
"""


def default_rules_yaml(time_zone: str | None = None) -> str:
    """The default rules, with file-name dates read in `time_zone` (e.g. Home Assistant's)."""
    if not time_zone or time_zone == "UTC":
        return DEFAULT_RULES_YAML
    return DEFAULT_RULES_YAML.replace(
        "extraction_timezone: UTC  #", f"extraction_timezone: {time_zone}  #", 1
    )
