"""Paged `POST /search/metadata` walks for each API family (v2, v3.0/3.1, v3.2).

Every walk covers timeline and archive assets that are not trashed: v2 needs one walk per
visibility, v3.0/3.1 one walk (hidden items are dropped here), v3.2 the `filter` path with
`trashedAt eq null` and a cursor. Pages are deduplicated by id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from . import parsing
from .errors import ImmichInvalidResponseError
from .models import ApiMode
from .transport import Transport

CHUNK_SIZE = 1000  # ids per bulk request; also the search page size
_V32_ORDER = {"field": "fileCreatedAt", "direction": "asc"}
_V32_VISIBLE = {"in": ["timeline", "archive"]}


async def walk(http: Transport, mode: ApiMode, query: dict[str, Any]) -> AsyncIterator[list[Any]]:
    """Raw item pages of one search (`query` = flat fields, or `filter` on v3.2)."""
    page: str | None = "1"
    cursor: str | None = None
    while True:
        body: dict[str, Any] = {"size": CHUNK_SIZE, **query}
        if mode is ApiMode.V3_2:
            body["orderBy"] = _V32_ORDER
            if cursor is not None:
                body["cursor"] = cursor
        else:
            body["order"] = "asc"
            body["page"] = int(page) if page and page.isdigit() else page
        result = parsing.parse_search_page(
            await http.request("POST", "/search/metadata", body=body)
        )
        yield result.items
        if mode is ApiMode.V3_2:
            if result.next_cursor is not None and result.next_cursor == cursor:
                raise ImmichInvalidResponseError("search cursor did not advance")
            cursor = result.next_cursor
            if cursor is None:
                return
        else:
            if result.next_page is not None and result.next_page == page:
                raise ImmichInvalidResponseError("search page did not advance")
            page = result.next_page
            if page is None:
                return


def visible_queries(mode: ApiMode, flat: dict[str, Any], fil: dict[str, Any]) -> list[Any]:
    """The searches covering timeline + archive, non-trashed, in this mode."""
    if mode is ApiMode.V3_2:
        return [{"filter": {"trashedAt": {"eq": None}, "visibility": _V32_VISIBLE, **fil}}]
    if mode is ApiMode.V2:
        return [{**flat, "visibility": v} for v in ("timeline", "archive")]
    return [flat]


async def visible_items(
    http: Transport,
    mode: ApiMode,
    flat: dict[str, Any],
    fil: dict[str, Any],
    *,
    extra: dict[str, Any] | None = None,
) -> AsyncIterator[list[Any]]:
    """Deduplicated, visible (timeline/archive, not trashed) raw items."""
    seen: set[str] = set()
    for query in visible_queries(mode, flat, fil):
        async for items in walk(http, mode, {**query, **(extra or {})}):
            page: list[Any] = []
            for item in items:
                ident = parsing.item_id(item)
                if ident in seen or not parsing.item_visible(item):
                    continue
                seen.add(ident)
                page.append(item)
            yield page
