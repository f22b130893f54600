"""The Immich specs' schemas as JSON Schema 2020-12, and the checks their validators use.

`to_json_schema` converts an OpenAPI 3.0 schema (`nullable`, `#/components/...` refs under
`SPEC_URI`, no `x-` extensions). `SchemaValidator` checks `pattern` with the `regex` engine;
`REQUEST_FORMATS` and `RESPONSE_FORMATS` check `uuid` and `date-time` (answers may carry the
expanded years Immich's server writes).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import regex as unicode_re
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

SPEC_URI = "urn:immich-openapi"
_DATE_TIME = re.compile(
    r"(?P<year>\d{4}|[+-]\d{6})-(?P<month>\d{2})-(?P<day>\d{2})[Tt ]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?:\.\d+)?"
    r"(?:[Zz]|[+-](?P<oh>\d{2}):(?P<om>\d{2}))"
)


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return len(value) == 36 and str(uuid.UUID(value)) == value.lower()


def _date_time(value: object, *, expanded_years: bool) -> bool:
    """RFC 3339 `date-time` (years 0000-9999); with `expanded_years` also JavaScript's
    `+010000-...`/`-000001-...`, which Immich's server writes for years outside 0-9999."""
    if not isinstance(value, str):
        return True
    found = _DATE_TIME.fullmatch(value)
    if found is None or (len(found["year"]) != 4 and not expanded_years):
        return False
    ranges = {"month": (1, 12), "day": (1, 31), "hour": (0, 23), "minute": (0, 59)}
    ranges |= {"second": (0, 60), "oh": (0, 23), "om": (0, 59)}
    return all(
        lo <= int(found[name]) <= hi for name, (lo, hi) in ranges.items() if found[name] is not None
    )


def _format_checker(*, expanded_years: bool) -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checks("uuid", raises=ValueError)(_is_uuid)
    checker.checks("date-time")(lambda v: _date_time(v, expanded_years=expanded_years))
    return checker


REQUEST_FORMATS = _format_checker(expanded_years=False)  # what clients send
RESPONSE_FORMATS = _format_checker(expanded_years=True)  # what the server writes


def _pattern(
    validator: Any, pattern: str, instance: object, _schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """`pattern` with the `regex` engine: Immich's patterns use `\\p{L}` (Python's `re` cannot)."""
    if validator.is_type(instance, "string") and not unicode_re.search(pattern, str(instance)):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


SchemaValidator = validators.extend(Draft202012Validator, {"pattern": _pattern})


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema 2020-12 (nullable, absolute refs, no extensions)."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-") or key in {"example", "nullable", "discriminator", "xml"}:
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith("#/"):
            out[key] = SPEC_URI + value
        elif key in {"properties", "patternProperties", "$defs"} and isinstance(value, dict):
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        else:
            out[key] = to_json_schema(value)
    if node.get("nullable") is True:
        if "$ref" in out or "allOf" in out or "oneOf" in out or "anyOf" in out:
            return {"anyOf": [out, {"type": "null"}]}
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out
