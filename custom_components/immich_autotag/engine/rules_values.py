"""Leaf validators of the rules file and the block/list combinators the schema is built from.

Only the voluptuous subset Probatio also implements is used (Schema, Required, Optional,
Invalid, MultipleInvalid). Blocks and lists accept null as "empty". Leaf validators convert
as they check (regexes compiled, links normalised, names trimmed).
"""

from __future__ import annotations

import math
import re
import zoneinfo
from collections.abc import Callable
from typing import Any, TypeAlias

import regex
import voluptuous as vol

from .patterns import PatternTooSlowError, UserPattern, check_cost
from .rules import TEMP_ALBUM_SUFFIX, Access, ConversionMode

Validator: TypeAlias = Callable[[Any], Any]

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID_RE = re.compile(rf"^{_UUID}$")
_PHOTO_URL_RE = re.compile(rf"/photos/({_UUID})(?:[/?#]|$)")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def kind(value: object) -> str:
    """A user-facing name of a YAML value's type."""
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    names |= {list: "a list", dict: "a mapping"}
    return names.get(type(value), type(value).__name__)


class Block:
    """A mapping with known keys (unknown keys are errors); null means an empty mapping."""

    def __init__(self, fields: dict[Any, Validator], check: Validator | None = None) -> None:
        self.fields = fields
        self._schema = vol.Schema(fields)
        self._check = check

    def keys(self) -> list[str]:
        """The key names this block accepts."""
        return [str(getattr(marker, "schema", marker)) for marker in self.fields]

    def field(self, key: object) -> Validator | None:
        """The validator of one key, if the key is known."""
        for marker, validator in self.fields.items():
            if getattr(marker, "schema", marker) == key and isinstance(key, str):
                return validator
        return None

    def __call__(self, value: object) -> dict[str, Any]:
        """Validate one mapping."""
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise vol.Invalid(f"expected a mapping, got {kind(value)}")
        out: dict[str, Any] = self._schema(value)
        if self._check is not None:
            self._check(out)
        return out


class ListOf:
    """A list whose items all pass `item`; null means an empty list."""

    def __init__(self, item: Validator) -> None:
        self.item = item
        self._schema = vol.Schema([item])

    def __call__(self, value: object) -> list[Any]:
        """Validate one list."""
        if value is None:
            return []
        if not isinstance(value, list):
            raise vol.Invalid(f"expected a list, got {kind(value)}")
        out: list[Any] = self._schema(value)
        return out


def anything(value: object) -> object:
    """Accepted as is (ignored keys)."""
    return value


def boolean(value: object) -> bool:
    """A YAML boolean (true/false)."""
    if not isinstance(value, bool):
        raise vol.Invalid(f"expected true or false, got {kind(value)}")
    return value


def count(value: object) -> int:
    """A whole number >= 0."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise vol.Invalid(f"expected a whole number, got {kind(value)}")
    if value < 0:
        raise vol.Invalid("must be 0 or more")
    return value


def amount(value: object) -> float:
    """A finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise vol.Invalid(f"expected a number, got {kind(value)}")
    if not math.isfinite(value) or value < 0:
        raise vol.Invalid("must be a finite number, 0 or more")
    return float(value)


def text(value: object) -> str:
    """A non-empty string."""
    if not isinstance(value, str):
        raise vol.Invalid(f"expected text, got {kind(value)}")
    if not value.strip():
        raise vol.Invalid("must not be empty")
    return value


def port(value: object) -> int | None:
    """A TCP port, or null."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:  # noqa: PLR2004
        raise vol.Invalid("expected a port number from 1 to 65535")
    return value


def tag_name(value: object) -> str:
    """A full tag path: `a/b/c`, no leading/trailing `/`, no empty segments."""
    if not isinstance(value, str):
        hint = f"; quote it: '{value}'" if isinstance(value, int | float) else ""
        raise vol.Invalid(f"expected a tag name (text), got {kind(value)}{hint}")
    if not value.strip():
        raise vol.Invalid("a tag name must not be empty")
    if value.startswith("/") or value.endswith("/"):
        raise vol.Invalid(f"tag name {value!r} must not start or end with '/'")
    if any(not segment.strip() for segment in value.split("/")):
        raise vol.Invalid(f"tag name {value!r} has an empty segment")
    return value


def optional_tag(value: object) -> str | None:
    """A tag name, or null to disable the tag."""
    return None if value is None else tag_name(value)


def tag_prefix(value: object) -> str | None:
    """A tag name prefix (may end with '/'), or null to disable per-group tags."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid(f"expected a tag name prefix (text), got {kind(value)}")
    try:
        tag_name(value + "x")
    except vol.Invalid:
        raise vol.Invalid(f"{value!r} does not start valid tag names") from None
    return value


def album_name(value: object) -> str:
    """An album name that is not a tool-owned temporary album."""
    name = text(value)
    if name.endswith(TEMP_ALBUM_SUFFIX):
        raise vol.Invalid(f"album names ending in {TEMP_ALBUM_SUFFIX!r} are reserved")
    return name


def _compile(value: object, *, ignore_case: bool, anchored: bool) -> UserPattern:
    if not isinstance(value, str):
        raise vol.Invalid(f"expected a regular expression (text), got {kind(value)}")
    try:
        pattern = UserPattern(value, ignore_case=ignore_case)
    except (re.error, regex.error, OverflowError, RecursionError, ValueError) as err:
        raise vol.Invalid(f"invalid regular expression ({err})") from None
    try:
        check_cost(pattern, anchored=anchored)
    except PatternTooSlowError as err:
        raise vol.Invalid(err.message) from None
    return pattern


def user_regex(value: object) -> UserPattern:
    """A Python regular expression (matched with `re.match` semantics), cost-checked."""
    return _compile(value, ignore_case=False, anchored=True)


def user_regex_ignorecase(value: object) -> UserPattern:
    """A Python regular expression searched case-insensitively, cost-checked."""
    return _compile(value, ignore_case=True, anchored=False)


def asset_link(value: object) -> str:
    """An asset UUID or an Immich URL with `/photos/<uuid>` -> the lower-case UUID."""
    if not isinstance(value, str):
        raise vol.Invalid(f"expected an asset id or Immich photo URL, got {kind(value)}")
    candidate = value.strip()
    if _UUID_RE.match(candidate):
        return candidate.lower()
    found = _PHOTO_URL_RE.search(candidate)
    if found:
        return found.group(1).lower()
    raise vol.Invalid(f"{value!r} is neither an asset id (UUID) nor an URL with /photos/<id>")


def timezone(value: object) -> str:
    """An IANA time zone name known to zoneinfo."""
    name = text(value)
    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, KeyError, OSError, UnicodeError):
        msg = f"unknown time zone {name!r} (use an IANA name like Europe/Madrid)"
        raise vol.Invalid(msg) from None
    return name


def email(value: object) -> str:
    """An email address (user lookup happens at run time)."""
    address = text(value).strip()
    if not _EMAIL_RE.match(address):
        raise vol.Invalid(f"{address!r} is not an email address")
    return address


def mode(value: object) -> ConversionMode:
    """`move` or `copy`."""
    if isinstance(value, str) and value.strip().lower() in {"move", "copy"}:
        return ConversionMode(value.strip().lower())
    raise vol.Invalid(f"expected move or copy, got {value!r}")


def access(value: object) -> Access:
    """`view`, `edit` or `admin`."""
    if isinstance(value, str) and value.strip().lower() in {a.value for a in Access}:
        return Access(value.strip().lower())
    raise vol.Invalid(f"expected view, edit or admin, got {value!r}")
