"""Validate Immich API requests and responses against the vendored OpenAPI specs.

`OpenApiValidator(spec).validate(method, path, query, body)` and
`.validate_response(method, path, status, body)` return lists of violation messages
(empty = valid). Paths are relative to `/api`. Schemas are converted from OpenAPI 3.0 to JSON
Schema 2020-12 once (`json_schema.py`), and one validator is compiled lazily per operation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .json_schema import (
    REQUEST_FORMATS,
    RESPONSE_FORMATS,
    SPEC_URI,
    SchemaValidator,
    to_json_schema,
)

SPECS_DIR = Path(__file__).parent / "specs"
SPEC_V3_0 = SPECS_DIR / "immich-openapi-3.0.3.json"
SPEC_V3_2 = SPECS_DIR / "immich-openapi-3.2.2.json"

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(slots=True)
class _Operation:
    """One (method, path template) of the spec, with lazily compiled validators."""

    method: str
    template: str
    spec: dict[str, Any]
    body_required: bool = False
    body_schema: dict[str, Any] | None = None
    params: dict[str, tuple[str, bool, dict[str, Any]]] = field(default_factory=dict)
    _compiled: dict[str, Any] = field(default_factory=dict)

    @property
    def permission(self) -> str | None:
        """The `x-immich-permission` of this operation, if any."""
        value = self.spec.get("x-immich-permission")
        return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """A matched route: the template and its path parameters."""

    method: str
    template: str
    params: dict[str, str]
    permission: str | None
    public: bool


class OpenApiValidator:
    """Request and response validator for one Immich OpenAPI spec."""

    def __init__(
        self,
        spec_path: Path,
        *,
        extra_query: Mapping[str, Mapping[str, Any]] | None = None,
        schema_changes: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        raw = orjson.loads(spec_path.read_bytes())
        self.version: str = raw.get("info", {}).get("version", "")
        schemas = raw.get("components", {}).get("schemas", {})
        for name, properties in (schema_changes or {}).items():
            schemas[name]["properties"].update(properties)
        converted = to_json_schema({"components": raw.get("components", {})})
        resource = Resource.from_contents(converted, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        self._routes: list[tuple[re.Pattern[str], int, dict[str, _Operation]]] = []
        extra = dict(extra_query or {})
        for template, item in raw["paths"].items():
            ops: dict[str, _Operation] = {}
            shared_params = item.get("parameters", [])
            for method in _METHODS:
                spec = item.get(method)
                if spec is None:
                    continue
                op = _Operation(method.upper(), template, spec)
                for param in [*shared_params, *spec.get("parameters", [])]:
                    schema = to_json_schema(param.get("schema", {}))
                    op.params[param["name"]] = (param["in"], bool(param.get("required")), schema)
                for name, schema in extra.get(f"{method.upper()} {template}", {}).items():
                    op.params[name] = ("query", False, to_json_schema(schema))
                body = spec.get("requestBody")
                if body is not None:
                    op.body_required = bool(body.get("required"))
                    content = body.get("content", {}).get("application/json")
                    if content is not None and "schema" in content:
                        op.body_schema = to_json_schema(content["schema"])
                ops[op.method] = op
            regex = "^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template)) + "$"
            literal = sum(1 for seg in template.split("/") if seg and not seg.startswith("{"))
            self._routes.append((re.compile(regex), literal, ops))
        self._routes.sort(key=lambda route: -route[1])

    def _compile(
        self, op: _Operation, key: str, schema: dict[str, Any], *, response: bool = False
    ) -> Any:
        validator = op._compiled.get(key)
        if validator is None:
            validator = SchemaValidator(
                schema,
                registry=self._registry,
                format_checker=RESPONSE_FORMATS if response else REQUEST_FORMATS,
            )
            op._compiled[key] = validator
        return validator

    def _find(self, method: str, path: str) -> tuple[_Operation | None, dict[str, str], bool]:
        """Return (operation, path params, path known)."""
        clean = path.split("?", 1)[0].rstrip("/") or "/"
        known = False
        for regex, _literal, ops in self._routes:
            found = regex.match(clean)
            if found is None:
                continue
            known = True
            op = ops.get(method.upper())
            if op is None:
                continue
            names = re.findall(r"\{([^}]+)\}", op.template)
            return op, dict(zip(names, found.groups(), strict=True)), True
        return None, {}, known

    def match(self, method: str, path: str) -> RouteMatch | None:
        """Resolve a request to its route template (None for unknown route/method)."""
        op, params, _known = self._find(method, path)
        if op is None:
            return None
        public = op.spec.get("security") == [] or "security" not in op.spec
        return RouteMatch(op.method, op.template, params, op.permission, public)

    def validate(
        self,
        method: str,
        path: str,
        query: Mapping[str, str | Sequence[str]],
        body: object | None,
    ) -> list[str]:
        """Violations of one request (empty list = valid)."""
        op, path_params, known = self._find(method, path)
        if op is None:
            what = "method not allowed" if known else "unknown route"
            return [f"{method.upper()} {path}: {what}"]
        where = f"{op.method} {op.template}"
        errors: list[str] = []
        for name, value in path_params.items():
            spec = op.params.get(name)
            if spec is not None:
                errors.extend(self._check_value(op, name, value, spec[2], f"{where}: path {name}"))
        for name, raw in query.items():
            spec = op.params.get(name)
            if spec is None or spec[0] != "query":
                errors.append(f"{where}: unknown query parameter {name!r}")
                continue
            values = [raw] if isinstance(raw, str) else list(raw)
            schema = spec[2]
            if schema.get("type") == "array" or "array" in (schema.get("type") or []):
                item_schema = schema.get("items", {})
                for item in values:
                    errors.extend(
                        self._check_value(op, name, item, item_schema, f"{where}: query {name}")
                    )
            elif len(values) != 1:
                errors.append(f"{where}: query {name} given {len(values)} times")
            else:
                errors.extend(
                    self._check_value(op, name, values[0], schema, f"{where}: query {name}")
                )
        for name, (location, required, _schema) in op.params.items():
            if required and location == "query" and name not in query:
                errors.append(f"{where}: missing required query parameter {name!r}")
        if op.body_schema is None:
            if body is not None:
                errors.append(f"{where}: unexpected request body")
            return errors
        if body is None:
            if op.body_required:
                errors.append(f"{where}: missing required request body")
            return errors
        validator = self._compile(op, "$body", op.body_schema)
        for error in validator.iter_errors(body):
            loc = "".join(
                f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
            )
            errors.append(f"{where}: body{loc}: {error.message[:300]}")
        return errors

    def validate_response(self, method: str, path: str, status: int, body: object) -> list[str]:
        """Violations of one JSON answer against the operation's response schema."""
        op, _params, _known = self._find(method, path)
        if op is None:
            return [f"{method.upper()} {path}: unknown route"]
        where = f"{op.method} {op.template} -> {status}"
        answer = op.spec.get("responses", {}).get(str(status))
        if answer is None:
            return [f"{where}: status not in the spec"]
        content = answer.get("content", {}).get("application/json")
        if content is None or "schema" not in content:
            return [] if body is None else [f"{where}: unexpected response body"]
        schema = to_json_schema(content["schema"])
        validator = self._compile(op, f"$response:{status}", schema, response=True)
        return [
            f"{where}: body{''.join(f'.{p}' for p in error.absolute_path)}: {error.message[:300]}"
            for error in validator.iter_errors(body)
        ]

    def _check_value(
        self, op: _Operation, name: str, raw: str, schema: dict[str, Any], where: str
    ) -> list[str]:
        value = _coerce(raw, schema)
        if value is _INVALID:
            return [f"{where}: {raw!r} is not of type {schema.get('type')}"]
        validator = self._compile(op, f"param:{name}:{id(schema)}", schema)
        return [f"{where}: {error.message[:200]}" for error in validator.iter_errors(value)]


_INVALID: Any = object()


def _coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    """Turn a query/path string into the type its schema asks for."""
    kind = schema.get("type")
    kinds = {kind} if isinstance(kind, str) else set(kind or ())
    if "boolean" in kinds:
        return {"true": True, "false": False}.get(raw, _INVALID)
    if "integer" in kinds:
        return int(raw) if re.fullmatch(r"-?\d+", raw) else _INVALID
    if "number" in kinds:
        try:
            return float(raw)
        except ValueError:
            return _INVALID
    return raw


_V2_EXTRA_QUERY: dict[str, dict[str, Any]] = {
    "GET /albums": {"shared": {"type": "boolean"}},
    "GET /albums/{id}": {"withoutAssets": {"type": "boolean"}},
}


# v2 answers as the 3.0.3 spec says except where v3.0 changed a response (no v2 spec is
# vendored): `duration` was a string and the owner was `owner`, not the first album user.
_V2_SCHEMA_CHANGES: dict[str, dict[str, Any]] = {
    "AssetResponseDto": {"duration": {"type": "string", "nullable": True}},
    "AlbumResponseDto": {
        "albumUsers": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/AlbumUserResponseDto"},
        },
    },
}


@cache
def _validator(spec: Path, v2: bool) -> OpenApiValidator:
    if v2:
        return OpenApiValidator(
            spec, extra_query=_V2_EXTRA_QUERY, schema_changes=_V2_SCHEMA_CHANGES
        )
    return OpenApiValidator(spec)


def validator_for(version: str) -> OpenApiValidator:
    """Cached validator: 3.2.x -> 3.2.2 spec; everything else -> 3.0.3 (v2 also allows `shared`)."""
    parts = version.lstrip("v").split(".")
    major = int(parts[0]) if parts and parts[0].isdigit() else 3
    minor = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    if (major, minor) >= (3, 2):
        return _validator(SPEC_V3_2, v2=False)
    return _validator(SPEC_V3_0, v2=major < 3)
