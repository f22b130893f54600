"""Which assets a run may change (docs/engine.md#scope): owned, passing the filters, asked for."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable

from .library import Library
from .matching import classifying_albums, could_match, matches_any
from .rules import Rules
from .state import State


class InvalidAssetIdError(ValueError):
    """An asset id that is not a UUID (the message names it)."""


def parse_asset_ids(values: Iterable[str]) -> list[str]:
    """Asset ids asked for, checked and normalised (lower-case UUIDs, duplicates dropped)."""
    ids: list[str] = []
    for value in values:
        text = value.strip() if isinstance(value, str) else ""
        try:
            parsed = uuid.UUID(text)
        except ValueError:
            raise InvalidAssetIdError(f"invalid asset id {value!r}: not a UUID") from None
        if str(parsed) != text.lower():  # uuid.UUID also accepts braces, urn: and no dashes
            raise InvalidAssetIdError(f"invalid asset id {value!r}: not a UUID")
        ids.append(str(parsed))
    return list(dict.fromkeys(ids))


def _normalise(asset_ids: Collection[str]) -> set[str]:
    return {i.strip().lower() for i in asset_ids}


def compute_scope(
    library: Library, rules: Rules, asset_ids: Collection[str] | None = None
) -> frozenset[int]:
    """Owned assets passing `filter_in`/`filter_out` (on the library as loaded), in `asset_ids`."""
    wanted = _normalise(asset_ids) if asset_ids is not None else None
    filters = rules.filters
    view = State(library, ())  # read-only view: the filters see the library as loaded
    # Only assets a filter rule could match need the per-asset check (`could_match`).
    may_pass = could_match(view, filters.filter_in) if filters.filter_in else None
    may_drop = could_match(view, filters.filter_out)
    ids, owned = library.assets.ids, library.assets.owned
    scope: list[int] = []
    # The index's ints, in order (0, 1, ...): the scope and every set a plan builds from it
    # share them instead of holding an int object of their own per asset.
    numbers = library.index.values() if len(library.index) == len(ids) else range(len(ids))
    for n in numbers:
        if not owned[n]:
            continue
        if wanted is not None and ids[n].lower() not in wanted:
            continue
        if may_pass is not None and n not in may_pass:
            continue
        if n in may_drop or may_pass is not None:
            albums = classifying_albums(view, n)
            if may_pass is not None and not matches_any(view, filters.filter_in, n, albums):
                continue
            if n in may_drop and matches_any(view, filters.filter_out, n, albums):
                continue
        scope.append(n)
    return frozenset(scope)


def unknown_asset_ids(library: Library, asset_ids: Collection[str]) -> list[str]:
    """The requested ids that are not in the library (sorted, as given lower-cased)."""
    if not asset_ids:  # a whole-library run: nothing to look up among its assets
        return []
    known = {i.lower() for i in library.index}
    return sorted(i for i in _normalise(asset_ids) if i not in known)
