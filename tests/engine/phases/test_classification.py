"""Phase 5: status (docs/engine.md), output tags, the patterns table of docs/date-cases.md."""

import re

import pytest

from custom_components.immich_autotag.engine.phases import classification
from custom_components.immich_autotag.engine.phases.classification import classify
from custom_components.immich_autotag.engine.rules import Classification, Rule, Rules
from custom_components.immich_autotag.engine.state import Status

from ..builders import LibraryBuilder

UNKNOWN = "autotag_output_unknown"
CONFLICT = "autotag_output_conflict"


def rules(*rs: Rule, unknown: str | None = UNKNOWN, conflict: str | None = CONFLICT) -> Rules:
    return Rules(
        classification=Classification(rules=rs, unknown_tag=unknown, conflict_tag=conflict)
    )


def pattern(p: str, *, multiple: bool = False) -> Rule:
    return Rule(album_name_patterns=(re.compile(p),), allow_multiple_albums=multiple)


@pytest.mark.parametrize(
    ("album", "first", "second"),
    [
        ("2024", False, True),
        ("2024 Summer", False, True),
        ("20240715", False, True),
        ("2024-07-15 Beach", True, True),
        ("1999-13-45 x", True, True),
        ("Summer 2024", False, False),
    ],
)
def test_reference_regexes(album: str, first: bool, second: bool) -> None:
    b = LibraryBuilder()
    a = b.asset()
    b.album(album, a)
    state = b.state()
    expected = {True: Status.CLASSIFIED, False: Status.UNCLASSIFIED}
    assert classify(state, rules(pattern(r"^\d{4}-(\d{2}(-\d{2})?)?")), a) is expected[first]
    assert classify(state, rules(pattern(r"^\d{4}(-\d{2}(-\d{2})?)?")), a) is expected[second]


def test_statuses() -> None:
    b = LibraryBuilder()
    none = b.asset()
    by_tag = b.asset(tags=("autotag_input_meme/funny",))
    two_rules = b.asset(tags=("autotag_input_meme",))
    two_albums = b.asset()
    b.album("2024-01 A", two_rules, two_albums)
    b.album("2024-02 B", two_albums)
    state = b.state()
    rs = rules(Rule(tag_names=("autotag_input_meme",)), pattern(r"^\d{4}-\d{2}"))
    assert classify(state, rs, none) is Status.UNCLASSIFIED
    assert classify(state, rs, by_tag) is Status.CLASSIFIED
    assert classify(state, rs, two_rules) is Status.CONFLICT
    assert classify(state, rs, two_albums) is Status.CONFLICT
    multi = rules(Rule(tag_names=("autotag_input_meme",)), pattern(r"^\d{4}-\d{2}", multiple=True))
    assert classify(state, multi, two_albums) is Status.CLASSIFIED


def test_same_name_albums_count_once() -> None:
    b = LibraryBuilder()
    a = b.asset()
    b.album("2024-01 Trip", a)
    b.album("2024-01 Trip", a, created_at="2021-01-01T00:00:00.000Z")
    state = b.state()
    assert classify(state, rules(pattern(r"^\d{4}")), a) is Status.CLASSIFIED


def test_temporary_albums_never_classify() -> None:
    b = LibraryBuilder()
    a = b.asset()
    b.album("2024-01-01-autotag-temp-unclassified", a)
    state = b.state()
    assert classify(state, rules(pattern(r"^\d{4}")), a) is Status.UNCLASSIFIED


def test_run_sets_status_and_output_tags() -> None:
    b = LibraryBuilder()
    unclassified = b.asset(tags=(CONFLICT,))
    classified = b.asset(tags=("keep", UNKNOWN))
    conflict = b.asset(tags=("keep", "other"))
    outside = b.asset(owned=False)
    state = b.state()
    classification.run(state, rules(Rule(tag_names=("keep",)), Rule(tag_names=("other",))))
    assert state.status == {
        unclassified: Status.UNCLASSIFIED,
        classified: Status.CLASSIFIED,
        conflict: Status.CONFLICT,
    }
    assert state.tagged(UNKNOWN) == {unclassified}
    assert state.tagged(CONFLICT) == {conflict}
    assert outside not in state.status


def test_disabled_output_tags_are_left_alone() -> None:
    b = LibraryBuilder()
    a = b.asset(tags=(CONFLICT,))
    state = b.state()
    classification.run(state, rules(Rule(tag_names=("keep",)), unknown=None, conflict=None))
    assert state.status[a] is Status.UNCLASSIFIED
    assert not any(state.tag_adds.values())
    assert not any(state.tag_removes.values())


def test_rerun_after_tags_is_stable() -> None:
    b = LibraryBuilder()
    a = b.asset(tags=(UNKNOWN,))
    c = b.asset(tags=("keep", "other", CONFLICT))
    state = b.state()
    classification.run(state, rules(Rule(tag_names=("keep",)), Rule(tag_names=("other",))))
    assert state.status[a] is Status.UNCLASSIFIED
    assert state.status[c] is Status.CONFLICT
    assert not any(state.tag_adds.values())
    assert not any(state.tag_removes.values())
