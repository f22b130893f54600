"""Whole-word keyword matching in album names (docs/engine.md#album-permissions)."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[ \-_.]+")


def words(text: str) -> tuple[str, ...]:
    """Lower-cased words of `text`, split on spaces, `-`, `_` and `.`."""
    return tuple(w for w in _SEPARATORS.split(text.casefold()) if w)


def has_keyword(name: str, keyword: str) -> bool:
    """True when `keyword` (one word or several) appears as whole words in `name`."""
    needle = words(keyword)
    if not needle:
        return False
    hay = words(name)
    size = len(needle)
    return any(hay[i : i + size] == needle for i in range(len(hay) - size + 1))
