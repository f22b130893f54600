"""Rules loader errors: every kind, with its exact YAML line and key path."""

import pytest

from custom_components.immich_autotag.engine.rules import RulesError
from custom_components.immich_autotag.engine.rules_loader import load_rules

GROUPS = "album_permissions:\n  user_groups:\n    - {name: fam, members: [a@b.co]}\n"

# (document, path, line, fragment of the message)
CASES = [
    # unknown keys, anywhere
    ("a: 1\n", "a", 1, "unknown key 'a'"),
    ("filters: {}\nclassificaton: {}\n", "classificaton", 2, "did you mean 'classification'?"),
    (
        "classification:\n  rules:\n    - tag_names: [x]\n      tagnames: [y]\n",
        "classification.rules[0].tagnames",
        4,
        "did you mean 'tag_names'?",
    ),
    ("filters:\n  filter_in: []\n  1: x\n", "filters[1]", 3, "unknown key 1"),
    (
        "duplicate_processing:\n  date_correction:\n    enabled: true\n    timezone: UTC\n",
        "duplicate_processing.date_correction.timezone",
        4,
        "unknown key 'timezone'",
    ),
    # type errors
    ("classification: [a]\n", "classification", 1, "expected a mapping, got a list"),
    ("filters:\n  filter_in: {}\n", "filters.filter_in", 2, "expected a list, got a mapping"),
    (
        "classification:\n  rules:\n    - tag_names: meme\n",
        "classification.rules[0].tag_names",
        3,
        "expected a list, got a string",
    ),
    (
        "classification:\n  rules:\n    - tag_names:\n        - ok\n        - 2020\n",
        "classification.rules[0].tag_names[1]",
        5,
        "quote it: '2020'",
    ),
    ("classification:\n  rules:\n    - meme\n", "classification.rules[0]", 3, "expected a mapping"),
    (
        "create_album_from_date_if_missing: 'yes'\n",
        "create_album_from_date_if_missing",
        1,
        "true or false",
    ),
    (
        "conversions: {enabled: 1}\n",
        "conversions.enabled",
        1,
        "expected true or false, got a number",
    ),
    (
        "album_date_consistency:\n  threshold_days: 1.5\n",
        "album_date_consistency.threshold_days",
        2,
        "whole number",
    ),
    (
        "album_date_consistency:\n  threshold_days: true\n",
        "album_date_consistency.threshold_days",
        2,
        "whole number",
    ),
    (
        "album_date_consistency:\n  threshold_days: -1\n",
        "album_date_consistency.threshold_days",
        2,
        "0 or more",
    ),
    (
        "duplicate_processing:\n  date_correction:\n    min_gap_hours: .nan\n",
        "duplicate_processing.date_correction.min_gap_hours",
        3,
        "finite",
    ),
    (
        "duplicate_processing:\n  date_correction:\n    large_gap_days: x\n",
        "duplicate_processing.date_correction.large_gap_days",
        3,
        "expected a number",
    ),
    ("server: {host: h, api_key: k, port: 70000}\n", "server.port", 1, "port number"),
    ("server:\n  host: ''\n  api_key: k\n", "server.host", 2, "must not be empty"),
    # required keys
    ("server:\n  host: h\n", "server.api_key", 1, "required key 'api_key' is missing"),
    (
        "conversions:\n  conversions:\n    - source: {tag_names: [a]}\n",
        "conversions.conversions[0].destination",
        3,
        "required key 'destination'",
    ),
    (
        "album_permissions:\n  user_groups:\n    - name: fam\n",
        "album_permissions.user_groups[0].members",
        3,
        "required key 'members'",
    ),
    # rules
    ("filters:\n  filter_out:\n    - {}\n", "filters.filter_out[0]", 3, "at least one of"),
    (
        "filters:\n  filter_out:\n    - {tag_names: [], require_all: true}\n",
        "filters.filter_out[0]",
        3,
        "at least one of",
    ),
    (
        "conversions:\n  conversions:\n    - source:\n      destination: {tag_names: [b]}\n",
        "conversions.conversions[0].source",
        3,
        "at least one of",
    ),
    (
        "classification:\n  rules:\n    - {tag_names: [x]}\n    - album_name_patterns:\n        - '^ok'\n        - '(unclosed'\n",
        "classification.rules[1].album_name_patterns[1]",
        6,
        "invalid regular expression (missing ), unterminated subpattern",
    ),
    (
        "album_detection_from_folders:\n  excluded_paths: ['[z-a]']\n",
        "album_detection_from_folders.excluded_paths[0]",
        2,
        "invalid regular expression",
    ),
    (
        "filters:\n  filter_in:\n    - album_name_patterns: [12]\n",
        "filters.filter_in[0].album_name_patterns[0]",
        3,
        "expected a regular expression",
    ),
    # tag names
    (
        "classification:\n  autotag_unknown: /out\n",
        "classification.autotag_unknown",
        2,
        "must not start or end with '/'",
    ),
    (
        "classification:\n  autotag_conflict: out/\n",
        "classification.autotag_conflict",
        2,
        "must not start or end",
    ),
    (
        "classification:\n  rules: [{tag_names: ['a//b']}]\n",
        "classification.rules[0].tag_names[0]",
        2,
        "empty segment",
    ),
    (
        "classification:\n  rules: [{tag_names: ['  ']}]\n",
        "classification.rules[0].tag_names[0]",
        2,
        "must not be empty",
    ),
    (
        "album_date_consistency:\n  autotag_album_date_mismatch: null\n",
        "album_date_consistency.autotag_album_date_mismatch",
        2,
        "expected a tag name",
    ),
    (
        "duplicate_processing:\n  autotag_classification_conflict_prefix: /x\n",
        "duplicate_processing.autotag_classification_conflict_prefix",
        2,
        "does not start valid tag names",
    ),
    # conversions
    (
        "conversions:\n  conversions:\n    - source: {tag_names: [a]}\n      destination: {album_names: [], tag_names: []}\n",
        "conversions.conversions[0].destination",
        4,
        "album_names or tag_names",
    ),
    (
        "conversions:\n  conversions:\n    - source: {tag_names: [a]}\n      destination: {tag_names: [b]}\n      mode: swap\n",
        "conversions.conversions[0].mode",
        5,
        "expected move or copy",
    ),
    (
        "conversions:\n  conversions:\n    - source: {tag_names: [a]}\n      destination:\n        album_names: [2024-01-01-autotag-temp-unclassified]\n",
        "conversions.conversions[0].destination.album_names[0]",
        5,
        "reserved",
    ),
    # time zones
    (
        "duplicate_processing:\n  date_correction:\n    enabled: true\n    extraction_timezone: Europe/Madird\n",
        "duplicate_processing.date_correction.extraction_timezone",
        4,
        "unknown time zone 'Europe/Madird'",
    ),
    (
        "duplicate_processing:\n  date_correction: {extraction_timezone: ../etc/passwd}\n",
        "duplicate_processing.date_correction.extraction_timezone",
        2,
        "unknown time zone",
    ),
    (
        "duplicate_processing:\n  date_correction: {extraction_timezone: 5}\n",
        "duplicate_processing.date_correction.extraction_timezone",
        2,
        "expected text",
    ),
    # permissions
    (
        GROUPS + "  selection_rules:\n    - {name: r, keyword: k, groups: [fam, famliy]}\n",
        "album_permissions.selection_rules[0].groups[1]",
        5,
        "unknown group 'famliy'",
    ),
    (
        GROUPS + "    - {name: fam, members: []}\n",
        "album_permissions.user_groups[1].name",
        4,
        "defined twice",
    ),
    (
        GROUPS + "  selection_rules:\n    - {name: r, keyword: k, groups: []}\n",
        "album_permissions.selection_rules[0]",
        5,
        "at least one group",
    ),
    (
        GROUPS + "  selection_rules:\n    - {name: r, keyword: k, groups: [fam], access: owner}\n",
        "album_permissions.selection_rules[0].access",
        5,
        "expected view, edit or admin",
    ),
    (
        "album_permissions:\n  user_groups:\n    - {name: g, members: [not-an-email]}\n",
        "album_permissions.user_groups[0].members[0]",
        3,
        "not an email",
    ),
    # the document itself
    ("- a\n- b\n", "", 1, "must be a mapping"),
    ("\n\njust text\n", "", 3, "got a string"),
    ("classification:\n  rules: [a\n", "", 3, "YAML syntax error"),
    ("filters: {}\nfilters: {}\n", "", 2, "duplicate key 'filters'"),
    ("a: 1\n---\nb: 2\n", "", 2, "expected a single document"),
    ("filters: *nope\n", "", 1, "undefined alias"),
    ("filters:\n  filter_in: []\n\tfilter_out: []\n", "", 3, "YAML syntax error"),
    ("skip: {}\nx: \x07\n", "", 2, "unacceptable character #x0007"),
]


@pytest.mark.parametrize(("text", "path", "line", "fragment"), CASES)
def test_error_has_path_and_line(text: str, path: str, line: int, fragment: str) -> None:
    with pytest.raises(RulesError) as caught:
        load_rules(text)
    err = caught.value
    assert (err.path, err.line) == (path, line), str(err)
    assert fragment in err.message
    prefix = ", ".join(p for p in (f"line {line}", path) if p)
    assert str(err) == f"{prefix}: {err.message}"
    assert isinstance(err, ValueError)


def test_first_error_in_document_order_is_reported() -> None:
    text = "classification:\n  rules:\n    - tag_names: [1]\n  autotag_unknown: /x\nzzz: 1\n"
    with pytest.raises(RulesError) as caught:
        load_rules(text)
    assert (caught.value.line, caught.value.path) == (3, "classification.rules[0].tag_names[0]")


def test_error_line_follows_merge_keys_and_anchors() -> None:
    text = (
        "x-base: &base {tag_names: [ok]}\n"
        "classification:\n"
        "  rules:\n"
        "    - <<: *base\n"
        "      album_name_patterns: ['(']\n"
    )
    with pytest.raises(RulesError) as caught:
        load_rules(text)
    assert caught.value.path == "x-base"  # unknown top-level key, reported first (line 1)
    with pytest.raises(RulesError) as caught:
        load_rules(text.replace("x-base: &base", "description: &base"))
    assert caught.value.path == "classification.rules[0].album_name_patterns[0]"
    assert caught.value.line == 5


def test_error_message_format_without_line() -> None:
    err = RulesError("boom", "a.b[1]", None)
    assert str(err) == "a.b[1]: boom"
    assert str(RulesError("boom")) == "boom"
    assert str(RulesError("boom", "", 7)) == "line 7: boom"


def test_deep_nesting_is_a_located_error() -> None:
    with pytest.raises(RulesError) as caught:
        load_rules("filters: {filter_in: " + "[" * 3000 + "]" * 3000 + "}")
    assert caught.value.line == 1
    assert "nested too deeply" in caught.value.message


def test_server_errors_never_echo_the_api_key() -> None:
    for text in (
        "server: {host: h, api_key: s3cret-key, port: 'x'}",
        "server: {host: 5, api_key: s3cret-key}",
        "server: {api_key: s3cret-key}",
    ):
        with pytest.raises(RulesError) as caught:
            load_rules(text)
        assert caught.value.path.startswith("server.")
        assert "s3cret" not in str(caught.value)
