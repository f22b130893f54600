"""Rules loader: every key, defaults, the predecessor's config, warnings, summary."""

from pathlib import Path

import pytest

from custom_components.immich_autotag.engine.default_rules import (
    DEFAULT_RULES_YAML,
    default_rules_yaml,
)
from custom_components.immich_autotag.engine.rules import (
    Access,
    ConversionMode,
    Rules,
    RulesError,
    TextPattern,
    summarize_rules,
)
from custom_components.immich_autotag.engine.rules_loader import (
    load_default_rules,
    load_rules,
    load_rules_file,
    validate_rules_text,
)

FIXTURES = Path(__file__).parent / "fixtures"
INPUTS = (
    "autotag_input_meme",
    "autotag_input_adult_meme",
    "autotag_input_pending_review",
    "autotag_input_ignore",
    "autotag_input_broken",
)


def patterns(rule_patterns: tuple[TextPattern, ...]) -> list[str]:
    return [p.pattern for p in rule_patterns]


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n\n# another\n", "---\n", "~\n"])
def test_empty_text_gives_the_defaults(text: str) -> None:
    assert load_rules(text) == load_default_rules()


def test_default_rules_have_the_input_rules_and_dated_albums() -> None:
    rules = load_default_rules()
    by_tag = {r.tag_names[0]: r for r in rules.classification.rules if r.tag_names}
    assert tuple(by_tag) == INPUTS
    for name, rule in by_tag.items():
        assert rule.tag_names == (name,)
        assert patterns(rule.album_name_patterns) == [f"^{name}$"]
        assert rule.album_matches(name)
        assert not rule.album_matches(name + "_x")
        assert not rule.require_all
    dated = rules.classification.rules[-1]
    assert dated.tag_names == ()
    assert patterns(dated.album_name_patterns) == [r"^\d{4}-\d{2}"]
    assert dated.album_matches("2023-07 Holidays")
    assert not dated.album_matches("Holidays 2023-07")
    assert dated.label == "classification.rules[5]"
    assert rules.warnings == ()
    assert rules.server is None
    assert rules.conversions == ()
    assert rules.filters.filter_in == rules.filters.filter_out == ()


def test_default_rules_keep_the_dataclass_defaults() -> None:
    """Everything the default text states equals the typed defaults (one source of truth)."""
    rules = load_default_rules()
    base = Rules()
    assert rules.duplicates == base.duplicates
    assert rules.album_date_consistency == base.album_date_consistency
    assert rules.album_permissions == base.album_permissions
    assert rules.create_album_from_date_if_missing is True
    assert rules.classification.unknown_tag == "autotag_output_unknown"
    assert rules.classification.conflict_tag == "autotag_output_conflict"
    assert rules.folder_albums.enabled is False
    assert patterns(rules.folder_albums.excluded_paths) == ["whatsapp"]
    assert "autotag_input_meme" in DEFAULT_RULES_YAML
    assert DEFAULT_RULES_YAML.count("#") > 20  # commented for users


def test_empty_mapping_gives_typed_defaults_without_rules() -> None:
    rules = load_rules("{}")
    assert rules == Rules()
    assert load_rules("classification:\nfilters:\nconversions:\n") == Rules()


def test_predecessor_config_loads_unchanged() -> None:
    rules = load_rules_file(FIXTURES / "predecessor_config.yaml")
    assert rules.server is not None
    assert (rules.server.host, rules.server.port) == ("192.168.1.10", 2283)
    assert rules.server.api_key == "<key of an admin user>"
    assert rules.server.url == "http://192.168.1.10:2283"
    assert [w.split(":")[0] for w in rules.warnings] == [
        "server",
        "enable_album_name_strip",
        "skip",
    ]
    assert "headless" in rules.warnings[0]
    (conversion,) = rules.conversions
    assert conversion.source.tag_names == ("meme", "autotag_input_meme")
    assert conversion.source.label == "conversions.conversions[0].source"
    assert conversion.destination_albums == ("autotag_input_meme",)
    assert conversion.destination_tags == ()
    assert conversion.mode is ConversionMode.MOVE
    assert conversion.remove_from_source_albums is False
    assert [r.label for r in rules.classification.rules] == [
        "classification.rules[0]",
        "classification.rules[1]",
        "classification.rules[2]",
    ]
    assert rules.classification.rules[1].tag_names == ("autotag_input_ignore",)
    assert patterns(rules.classification.rules[2].album_name_patterns) == [r"^\d{4}-\d{2}"]
    dates = rules.duplicates.date_correction
    assert (dates.enabled, dates.timezone) == (True, "Europe/Madrid")
    assert (dates.large_gap_days, dates.min_gap_hours, dates.midnight_tolerance_hours) == (
        1.1,
        20.0,
        4.0,
    )
    assert rules.duplicates.album_conflict_tag == "autotag_output_duplicate_asset_album_conflict"
    assert rules.album_date_consistency.threshold_days == 90
    assert rules.album_date_consistency.enabled
    assert rules.album_date_consistency.mismatch_tag == "autotag_output_album_date_mismatch"
    assert rules.folder_albums.enabled is False
    assert rules.folder_albums.excluded_paths[0].search("/x/WhatsApp Images/")
    assert rules.create_album_from_date_if_missing is True
    permissions = rules.album_permissions
    assert permissions.enabled
    assert [(g.name, g.members) for g in permissions.user_groups] == [
        ("family", ("mum@example.com", "dad@example.com"))
    ]
    (selection,) = permissions.selection_rules
    assert (selection.name, selection.keyword, selection.groups, selection.access) == (
        "share family",
        "family",
        ("family",),
        Access.VIEW,
    )


def test_every_key_is_loaded() -> None:
    rules = load_rules_file(FIXTURES / "all_keys.yaml")
    assert rules.server is not None
    assert rules.server.url == "https://photos.example:443"
    (link_rule,) = rules.filters.filter_in
    assert link_rule.asset_links == {
        "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
        "99999999-8888-4777-8666-555555555555",
    }
    assert link_rule.label == "filters.filter_in[0]"
    (out,) = rules.filters.filter_out
    assert out.tag_names == ("private", "people/secret")
    assert out.require_all
    assert out.label == "filters.filter_out[0]"
    first, second = rules.conversions
    assert first.mode is ConversionMode.COPY
    assert first.remove_from_source_albums
    assert (first.destination_albums, first.destination_tags) == (
        ("Memes",),
        ("autotag_input_meme",),
    )
    assert second.source.album_matches("Old stuff")
    assert second.destination_tags == ("legacy/old",)
    assert second.mode is ConversionMode.MOVE
    one, two = rules.classification.rules
    assert one.allow_multiple_albums
    assert two.asset_links == {"12345678-1234-1234-1234-123456789abc"}
    assert rules.classification.unknown_tag is None
    assert rules.classification.conflict_tag == "out/conflict"
    assert rules.create_album_from_date_if_missing is False
    assert rules.folder_albums.enabled
    assert rules.folder_albums.excluded_paths[0].search("/a/whatsapp/b")
    assert rules.folder_albums.excluded_paths[1].pattern == "/tmp/"  # noqa: S108
    d = rules.duplicates
    assert (d.album_conflict_tag, d.classification_conflict_tag) == ("dup/album", None)
    assert d.classification_conflict_prefix == "dup/group/"
    assert d.album_detection_conflict_tag == "dup/detect"
    dc = d.date_correction
    assert (dc.enabled, dc.timezone) == (False, "America/New_York")
    assert (dc.large_gap_days, dc.min_gap_hours, dc.midnight_tolerance_hours) == (2.0, 12.5, 0.0)
    adc = rules.album_date_consistency
    assert (adc.enabled, adc.threshold_days, adc.mismatch_tag) == (False, 0, "out/mismatch")
    p = rules.album_permissions
    assert [g.name for g in p.user_groups] == ["family", "friends"]
    assert p.user_groups[1].members == ()
    assert [(s.groups, s.access) for s in p.selection_rules] == [
        (("family", "friends"), Access.EDIT),
        (("friends",), Access.ADMIN),
        (("family",), Access.VIEW),
    ]
    assert rules.output_tags() == {
        "out/conflict",
        "dup/album",
        "dup/detect",
        "out/mismatch",
    }


def test_every_ignored_key_warns_with_its_path() -> None:
    warnings = load_rules_file(FIXTURES / "all_keys.yaml").warnings
    paths = [w.split(": ")[0] for w in warnings]
    assert paths == [
        "server",
        "enable_album_name_strip",
        "skip",
        "performance",
        "album_permissions.log_unmatched",
        "description",
        "filters.description",
        "conversions.description",
        "conversions.conversions[0].description",
        "conversions.conversions[0].source.description",
        "conversions.conversions[0].destination.description",
        "classification.description",
        "classification.rules[0].description",
        "album_detection_from_folders.description",
        "duplicate_processing.description",
        "duplicate_processing.date_correction.description",
        "album_date_consistency.description",
        "album_permissions.description",
        "album_permissions.user_groups[0].description",
        "album_permissions.selection_rules[0].description",
    ]
    assert not any("secret-key" in w for w in warnings)


def test_conversions_disabled_still_validates_but_yields_none() -> None:
    text = "conversions:\n  enabled: false\n  conversions:\n    - source: {tag_names: [a]}\n      destination: {tag_names: [b]}\n"
    assert load_rules(text).conversions == ()
    with pytest.raises(RulesError) as caught:
        load_rules(text.replace("[b]", "[]"))
    assert caught.value.path == "conversions.conversions[0].destination"
    assert caught.value.line == 5


def test_null_values_mean_empty_or_disabled() -> None:
    text = (
        "filters: {filter_in: null}\n"
        "classification:\n"
        "  rules:\n"
        "    - {tag_names: [a], album_name_patterns: null}\n"
        "  autotag_conflict: null\n"
        "duplicate_processing:\n"
        "  autotag_album_conflict: ~\n"
        "  autotag_classification_conflict_prefix: null\n"
        "  autotag_album_detection_conflict: null\n"
        "  date_correction:\n"
    )
    rules = load_rules(text)
    assert rules.filters.filter_in == ()
    assert rules.classification.rules[0].album_name_patterns == ()
    assert rules.classification.conflict_tag is None
    assert rules.classification.unknown_tag == "autotag_output_unknown"
    d = rules.duplicates
    assert d.album_conflict_tag is None
    assert d.classification_conflict_prefix is None
    assert d.album_detection_conflict_tag is None
    assert d.date_correction == Rules().duplicates.date_correction


def test_keyword_that_can_never_match_warns() -> None:
    text = (
        "album_permissions:\n"
        "  user_groups: [{name: g, members: [a@b.co]}]\n"
        "  selection_rules: [{name: r, keyword: family trip, groups: [g]}]\n"
    )
    (warning,) = load_rules(text).warnings
    assert warning.startswith("album_permissions.selection_rules[0].keyword:")


def test_validate_rules_text() -> None:
    rules, error = validate_rules_text("classification: {rules: [{tag_names: [x]}]}")
    assert error is None
    assert rules is not None
    assert rules.classification.rules[0].tag_names == ("x",)
    rules, error = validate_rules_text("classification: {rules: [{}]}")
    assert rules is None
    assert error is not None
    assert error.path == "classification.rules[0]"
    assert error.line == 1


def test_summary_counts_sections_and_hides_the_server() -> None:
    rules = load_rules_file(FIXTURES / "all_keys.yaml")
    summary = summarize_rules(rules)
    assert summary["filters"] == {"filter_in": 1, "filter_out": 1}
    assert summary["conversions"] == 2
    assert summary["classification_rules"] == 2
    assert summary["criteria"] == {"tag_names": 4, "album_name_patterns": 3, "asset_links": 4}
    assert summary["album_permissions"] == {
        "enabled": True,
        "user_groups": 2,
        "members": 1,
        "selection_rules": 3,
    }
    assert summary["date_correction"] == {"enabled": False, "timezone": "America/New_York"}
    assert summary["server_fallback"] is True
    assert summary["warnings"] == len(rules.warnings)
    flat = repr(summary)
    assert "secret-key" not in flat
    assert "photos.example" not in flat
    assert not [name for name in rules.output_tags() if name in flat]  # names are private
    assert summarize_rules(load_default_rules())["classification_rules"] == 6


def test_default_rules_in_a_time_zone() -> None:
    rules = load_rules(default_rules_yaml("Europe/Madrid"))
    assert rules.duplicates.date_correction.timezone == "Europe/Madrid"
    assert default_rules_yaml(None) == DEFAULT_RULES_YAML
