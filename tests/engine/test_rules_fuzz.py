"""Property: any input gives `Rules` or a `RulesError` with a path or a line, nothing else."""

import copy
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.immich_autotag.engine.default_rules import DEFAULT_RULES_YAML
from custom_components.immich_autotag.engine.rules import Rules, RulesError
from custom_components.immich_autotag.engine.rules_loader import load_rules

# YAML's line breaks (its error lines count them): a lone \r and NEL end a line too.
YAML_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")

FIXTURES = Path(__file__).parent / "fixtures"
VALID_DOCUMENTS = [
    yaml.safe_load(DEFAULT_RULES_YAML),
    yaml.safe_load((FIXTURES / "all_keys.yaml").read_text(encoding="utf-8")),
    yaml.safe_load((FIXTURES / "predecessor_config.yaml").read_text(encoding="utf-8")),
]


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


VOCABULARY = sorted({k for doc in VALID_DOCUMENTS for k in _keys(doc)})
FIDDLY_TEXT = st.sampled_from(
    ["(", "[z-a]", "a{99999999999}", "Europe/Madrid", "Mars/Base", "../x", "UTC\x00", "/", "a//b"]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    FIDDLY_TEXT,
)
keys = st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=10), st.integers())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20,
)


def assert_rules_or_located_error(text: str) -> None:
    error: RulesError | None = None
    try:
        result = load_rules(text)
    except RulesError as err:
        error = err
    else:
        assert isinstance(result, Rules)
        return
    assert error.path or error.line, error
    assert error.message
    if error.line is not None:
        assert 1 <= error.line <= len(YAML_LINE_BREAK.split(text)) + 1


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


def _mutate(doc: Any, path: tuple[Any, ...], action: str, new: Any) -> None:
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "wrap":
        parent[last] = [parent[last]]
    else:
        parent[last] = new


SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(values)
def test_random_documents(document: Any) -> None:
    assert_rules_or_located_error(yaml.safe_dump(document, allow_unicode=True))


@SETTINGS
@given(st.dictionaries(st.sampled_from(VOCABULARY), values, max_size=6))
def test_random_documents_with_known_keys(document: dict[str, Any]) -> None:
    assert_rules_or_located_error(yaml.safe_dump(document, allow_unicode=True))


@SETTINGS
@given(st.text(max_size=200))
def test_random_text(text: str) -> None:
    assert_rules_or_located_error(text)


@SETTINGS
@given(
    st.sampled_from(range(len(VALID_DOCUMENTS))),
    st.lists(
        st.tuples(
            st.integers(min_value=0),
            st.sampled_from(["delete", "replace", "wrap"]),
            st.one_of(values, FIDDLY_TEXT, st.text(max_size=30)),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_mutated_valid_documents(which: int, mutations: list[tuple[int, str, Any]]) -> None:
    doc = copy.deepcopy(VALID_DOCUMENTS[which])
    for pick, action, new in mutations:
        paths = _paths(doc)
        if not paths:
            break
        _mutate(doc, paths[pick % len(paths)], action, new)
    assert_rules_or_located_error(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_line_edits_of_the_default_text(data: st.DataObject) -> None:
    lines = DEFAULT_RULES_YAML.splitlines()
    index = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
    replacement = data.draw(st.one_of(st.text(max_size=40), FIDDLY_TEXT.map(lambda t: f"  x: {t}")))
    lines[index] = replacement
    assert_rules_or_located_error("\n".join(lines) + "\n")
