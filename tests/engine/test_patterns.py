"""User patterns have a bounded cost: catastrophic ones are errors naming the rule, never a hang."""

from __future__ import annotations

import re

import pytest

from custom_components.immich_autotag.engine import patterns
from custom_components.immich_autotag.engine.default_rules import DEFAULT_RULES_YAML
from custom_components.immich_autotag.engine.patterns import (
    PatternTooSlowError,
    UserPattern,
    check_cost,
)
from custom_components.immich_autotag.engine.rules import RulesError
from custom_components.immich_autotag.engine.rules_loader import load_rules

CATASTROPHIC = ["(a|a)+$", "(a|aa)+$", "^(\\w|\\w\\w)+$", "(x|x)+y"]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_album_pattern_is_refused_naming_the_rule(pattern: str) -> None:
    text = f"classification:\n  rules:\n    - {{tag_names: [x]}}\n    - album_name_patterns: ['^ok', '{pattern}']\n"
    with pytest.raises(RulesError) as caught:
        load_rules(text)
    assert caught.value.path == "classification.rules[1].album_name_patterns[1]"
    assert caught.value.line == 4
    assert "too slow" in caught.value.message


def test_catastrophic_excluded_path_is_refused() -> None:
    text = "album_detection_from_folders:\n  enabled: true\n  excluded_paths: ['(w|w)+$']\n"
    with pytest.raises(RulesError) as caught:
        load_rules(text)
    assert caught.value.path == "album_detection_from_folders.excluded_paths[0]"
    assert "too slow" in caught.value.message


def test_ordinary_patterns_pass_and_keep_re_semantics() -> None:
    rules = load_rules(DEFAULT_RULES_YAML)
    (dated,) = [r for r in rules.classification.rules if r.album_name_patterns][-1:]
    assert dated.album_matches("2024-07 Trip")
    assert not dated.album_matches("Trip 2024-07")  # anchored at the start, like re.match
    assert dated.album_name_patterns[0].pattern == r"^\d{4}-\d{2}"
    ignore = UserPattern("whatsapp", ignore_case=True)
    assert ignore.search("/x/WhatsApp Images/")
    assert not ignore.match("/x/WhatsApp Images/")
    with pytest.raises(re.error):
        UserPattern("(unclosed")


def test_a_pattern_too_slow_at_run_time_names_its_rule() -> None:
    """The probes cannot foresee every name: the budget also holds when matching."""
    slow = UserPattern("(a|a)+$", label="classification.rules[3].album_name_patterns[0]")
    assert slow.match("a" * 10)  # short names are fine
    with pytest.raises(PatternTooSlowError) as caught:
        slow.match("a" * 60 + "!")
    assert caught.value.path == "classification.rules[3].album_name_patterns[0]"
    assert "too slow" in str(caught.value)


def test_a_match_kept_waiting_is_not_too_slow() -> None:
    """`regex` times out by the clock: a thread that waited (GIL, busy machine) is retried."""
    pattern = UserPattern(r"^autotag_input_ignore$", label="classification.rules[1]")
    compiled = pattern._compiled
    timeouts: list[float] = []

    class Preempted:  # times out twice without using CPU, as a thread kept off the GIL does
        def match(self, text: str, timeout: float) -> object:
            timeouts.append(timeout)
            if len(timeouts) <= 2:
                raise TimeoutError("regex timed out")
            return compiled.match(text, timeout=timeout)

    pattern._compiled = Preempted()
    assert pattern.match("autotag_input_ignore")
    assert timeouts == [
        patterns.MATCH_BUDGET,
        patterns.MATCH_BUDGET * 4,
        patterns.MATCH_BUDGET * 16,
    ]


def test_a_match_that_never_gets_the_cpu_still_ends() -> None:
    pattern = UserPattern("a", label="filters.filter_in[0].album_name_patterns[0]")

    class NeverRuns:
        def match(self, _text: str, timeout: float) -> object:
            raise TimeoutError(f"regex timed out after {timeout} s")

    pattern._compiled = NeverRuns()
    with pytest.raises(PatternTooSlowError, match="too slow"):
        pattern.match("a")


def test_each_distinct_text_is_matched_once(monkeypatch: pytest.MonkeyPatch) -> None:
    pattern = UserPattern(r"^\d{4}")
    calls: list[str] = []
    compiled = pattern._compiled

    class Counting:
        def match(self, text: str, timeout: float) -> object:
            calls.append(text)
            return compiled.match(text, timeout=timeout)

    pattern._compiled = Counting()
    for _ in range(1000):
        assert pattern.match("2024 Summer")
        assert not pattern.match("Summer")
    assert calls == ["2024 Summer", "Summer"]


def test_total_budget_of_one_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(patterns, "TOTAL_BUDGET", 0.0)
    pattern = UserPattern("a", label="filters.filter_in[0].album_name_patterns[0]")
    with pytest.raises(PatternTooSlowError, match="in all"):
        pattern.match("a" * 50_000)


def test_probes_use_the_patterns_own_characters() -> None:
    texts = patterns.probe_texts("(x|y)+z")
    assert "x" * 64 in texts
    assert "xy" * 32 + "!" in texts
    check_cost(UserPattern(r"^(?:[a-z]+\s?)*$"), anchored=True)  # polynomial-safe in regex
