"""YAML side of the rules loader: parse with line tracking, locate key paths."""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import Any, TypeAlias

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .rules import RulesError

KeyPath: TypeAlias = Sequence[object]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_PYTHON_TAG = "tag:yaml.org,2002:python/"
# The predecessor (0.81.0) dumps its conversion mode enum as
# `!!python/object/apply:immich_autotag.config.models.ConversionMode [move]`.
_CONVERSION_MODE_TAG = re.compile(r"object/apply:(?:[A-Za-z_]\w*\.)*ConversionMode")


def format_path(path: KeyPath) -> str:
    """`('classification', 'rules', 1)` -> `classification.rules[1]`."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class _RulesLoader(yaml.SafeLoader):
    """Safe loader that rejects duplicate mapping keys (a common, silent mistake)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:  # noqa: FBT001, FBT002
        seen: set[object] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=False)
            if isinstance(key, Hashable):
                if key in seen:
                    raise ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _python_tag(loader: _RulesLoader, suffix: str, node: Node) -> str:
    """The predecessor's `ConversionMode` tag, read as its plain value (`move`/`copy`).

    Any other Python tag is an error. No Python object is ever built: the value is a string.
    """
    value: Node | None = None
    if _CONVERSION_MODE_TAG.fullmatch(suffix):
        if isinstance(node, SequenceNode) and len(node.value) == 1:
            value = node.value[0]
        elif isinstance(node, MappingNode):  # the long form: {args: [move]}
            entries = {k.value: v for k, v in node.value if isinstance(k, ScalarNode)}
            args = entries.get("args")
            if len(node.value) == 1 and isinstance(args, SequenceNode) and len(args.value) == 1:
                value = args.value[0]
    if isinstance(value, ScalarNode) and value.tag == "tag:yaml.org,2002:str":
        return str(loader.construct_scalar(value))
    raise ConstructorError(
        None,
        None,
        f"unsupported YAML tag !!python/{suffix}: Python objects are not read (only the "
        "predecessor's `!!python/object/apply:…ConversionMode [move|copy]` is accepted)",
        node.start_mark,
    )


_RulesLoader.add_multi_constructor(_PYTHON_TAG, _python_tag)


def _yaml_error(err: yaml.YAMLError, text: str) -> RulesError:
    """A PyYAML error as a `RulesError` with the 1-based line of the problem."""
    line: int | None = None
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        parts = [p for p in (err.context, err.problem) if p]
        detail = ", ".join(parts) if parts else "invalid YAML"
    elif isinstance(err, yaml.reader.ReaderError):
        line = text.count("\n", 0, err.position) + 1
        detail = f"unacceptable character #x{err.character:04x}: {err.reason}"
    else:  # pragma: no cover - every PyYAML error is one of the above
        detail = str(err)
    return RulesError(f"YAML syntax error: {detail}", "", line)


def parse_yaml(text: str) -> tuple[Any, Node | None]:
    """The document's data and its node tree (None for an empty document)."""
    try:
        loader = _RulesLoader(text)  # checks the characters at once
    except yaml.YAMLError as err:
        raise _yaml_error(err, text) from None
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as err:
        raise _yaml_error(err, text) from None
    except RecursionError:
        raise RulesError("the document is nested too deeply", "", 1) from None
    finally:
        loader.dispose()
    return data, node


def _key_value(node: Node) -> object:
    """The Python value of a scalar mapping key (None when it cannot be built)."""
    if not isinstance(node, ScalarNode):
        return None
    try:
        return SafeConstructor().construct_object(node, deep=True)
    except yaml.YAMLError:
        return None


def _same_key(key: object, part: object) -> bool:
    return type(key) is type(part) and key == part


def line_of(root: Node | None, path: KeyPath) -> int | None:
    """1-based line of the deepest node along `path` (a key's line for mapping entries)."""
    if root is None:
        return None
    node: Node = root
    line = root.start_mark.line + 1
    for part in path:
        child: Node | None = None
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                if _same_key(_key_value(key_node), part):
                    child, line = value_node, key_node.start_mark.line + 1
                    break
        elif (
            isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
