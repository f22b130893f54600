"""Paged `POST /search/metadata` walks for each API family (v2, v3.0/3.1, v3.2).

Every walk covers timeline and archive assets that are not trashed: v2 needs one walk per
visibility, v3.0/3.1 one walk (hidden items are dropped here), v3.2 the `filter` path with
`trashedAt eq null` and a cursor. Pages are deduplicated by id.

A large walk is split into requests that run concurrently (the client's limiter decides how
many are in flight) without costing more requests than a sequential walk:

- page numbers (v2, v3.0/3.1): the total comes from the caller's expected size (an album's
  `assetCount`, a tag's or the library's size at the last run) or else from
  `POST /search/statistics` (one light request), then every page is fetched at once;
- cursors (v3.2) are sequential, so the walk is split into `takenAt` ranges instead, cut at
  `Marks` — every MARK_EVERY-th `fileCreatedAt` of the previous full walk — into ranges of at
  most one page each on an unchanged library (a range that grew takes one more request).

Pages are yielded in order. A search that grew past its expected size walks on one page;
when there is still more, it is counted again and finished concurrently. One that shrank
stops at the page that says it is the last: the pages after it already sent (at most the
WINDOW started ahead of the consumer) cost an empty answer each, the others never go out.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from contextlib import aclosing
from typing import Any, TypeVar

from . import asset_parsing, parsing
from .errors import ImmichInvalidResponseError, ImmichPermissionError
from .models import ApiMode
from .transport import Transport

CHUNK_SIZE = 1000  # ids per bulk request; also the search page size
WINDOW = 32  # requests started ahead of the consumer (bounds the pages held in memory)
MARK_EVERY = 100  # v3.2: one takenAt mark per this many assets of a full walk
_V32_ORDER = {"field": "fileCreatedAt", "direction": "asc"}
_V32_VISIBLE = {"in": ["timeline", "archive"]}
_NOT_COUNTED = frozenset(
    {"size", "page", "cursor", "order", "orderBy", "withExif", "withPeople", "withStacked"}
)

T = TypeVar("T")
Mark = tuple[str, int]  # (fileCreatedAt, position of its first asset in the walk)


async def in_order(
    jobs: Iterable[Callable[[], Awaitable[T]]], window: int
) -> AsyncGenerator[T, None]:
    """Results of `jobs` in order, with up to `window` of them running at once.

    The event loop gets a turn before each result, so a consumer that processes results
    already waiting (a page each) holds the loop for one result at a time.
    """
    pending: deque[asyncio.Future[T]] = deque()
    try:
        for job in jobs:
            if pending:  # one start per turn of the loop (Home Assistant starts tasks eagerly)
                await asyncio.sleep(0)
            pending.append(asyncio.ensure_future(job()))
            if len(pending) >= window:
                yield await _next(pending)
        while pending:
            yield await _next(pending)
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def _next(pending: deque[asyncio.Future[T]]) -> T:
    first = pending.popleft()
    if first.done():
        await asyncio.sleep(0)  # awaiting a finished future would not yield to the loop
    return await first


class Marks:
    """Where a v3.2 walk may be cut: ranges from the last full walk's marks; records new ones.

    A mark is a `fileCreatedAt` value and the position of the first asset with it in the
    walk's order, so a cut `takenAt < value` / `takenAt >= value` falls exactly there.
    """

    def __init__(self, known: Iterable[Mark] = (), known_total: int = 0) -> None:
        self.known: list[Mark] = sorted(known, key=lambda m: m[1])
        self.known_total = known_total
        self.recorded: list[Mark] = []
        self.recorded_total = 0
        self._last: str | None = None

    def cuts(self, limit: int = CHUNK_SIZE) -> list[str]:
        """`takenAt` cuts leaving at most `limit` assets of the last walk between two cuts."""
        cuts: list[str] = []
        start = 0
        candidate: Mark | None = None
        for value, position in [*self.known, (None, self.known_total)]:
            if position - start > limit and candidate is not None and candidate[1] > start:
                cuts.append(candidate[0])
                start = candidate[1]
            if value is not None:
                candidate = (value, position)
        return cuts

    def record(self, items: list[Any]) -> None:
        """Note the marks of the next items of a full walk, in takenAt order."""
        for item in items:
            taken = item.get("fileCreatedAt") if isinstance(item, dict) else None
            if isinstance(taken, str) and taken != self._last:
                last = self.recorded[-1][1] if self.recorded else -MARK_EVERY
                if self.recorded_total - last >= MARK_EVERY:
                    self.recorded.append((taken, self.recorded_total))
                self._last = taken
            self.recorded_total += 1


class Pager:
    """Runs the searches of one client; knows whether the key may count (`asset.statistics`)."""

    def __init__(self, http: Transport) -> None:
        self._http = http
        self.can_count = True

    async def _page(
        self, mode: ApiMode, query: dict[str, Any], page: str | None, cursor: str | None
    ) -> asset_parsing.SearchPage:
        body: dict[str, Any] = {"size": CHUNK_SIZE, **query}
        if mode is ApiMode.V3_2:
            body["orderBy"] = _V32_ORDER
            if cursor is not None:
                body["cursor"] = cursor
        else:
            body["order"] = "asc"
            body["page"] = int(page) if page and page.isdigit() else page
        return asset_parsing.parse_search_page(
            await self._http.request("POST", "/search/metadata", body=body, items=CHUNK_SIZE)
        )

    async def count(self, query: dict[str, Any]) -> int | None:
        """Assets matching `query` (`POST /search/statistics`); None when the key may not ask."""
        if not self.can_count:
            return None
        body = {k: v for k, v in query.items() if k not in _NOT_COUNTED}
        try:
            data = await self._http.request("POST", "/search/statistics", body=body)
        except ImmichPermissionError:
            self.can_count = False
            return None
        total = parsing.obj(data, "search statistics").get("total")
        if not isinstance(total, int) or total < 0:
            raise ImmichInvalidResponseError("search statistics without a total")
        return total

    async def walk(
        self, mode: ApiMode, query: dict[str, Any], *, page: str = "1"
    ) -> AsyncGenerator[list[Any], None]:
        """Raw item pages of one search, one request after the other, from `page`."""
        next_page: str | None = page
        cursor: str | None = None
        while True:
            result = await self._page(mode, query, next_page, cursor)
            yield result.items
            if mode is ApiMode.V3_2:
                if result.next_cursor is not None and result.next_cursor == cursor:
                    raise ImmichInvalidResponseError("search cursor did not advance")
                cursor = result.next_cursor
                if cursor is None:
                    return
            else:
                if result.next_page is not None and result.next_page == next_page:
                    raise ImmichInvalidResponseError("search page did not advance")
                next_page = result.next_page
                if next_page is None:
                    return

    async def numbered(
        self, mode: ApiMode, query: dict[str, Any], total: int, *, first: int = 1
    ) -> AsyncGenerator[list[Any], None]:
        """Pages `first`.. of a search of about `total` items, fetched concurrently."""
        last = max(first, -(-total // CHUNK_SIZE))

        def job(n: int) -> Callable[[], Awaitable[asset_parsing.SearchPage]]:
            return lambda: self._page(mode, query, str(n), None)

        tail: asset_parsing.SearchPage | None = None
        async with aclosing(in_order((job(n) for n in range(first, last + 1)), WINDOW)) as pages:
            number = first
            async for result in pages:
                if result.next_page == str(number):
                    raise ImmichInvalidResponseError("search page did not advance")
                yield result.items
                tail, number = result, number + 1
                if result.next_page is None:  # it shrank: the pages not yet sent never are
                    break
        if tail is not None and tail.next_page is not None:  # it grew since it was counted
            # One more page, then (when there is still more) a count and the rest at once.
            rest = (
                self._after_first(mode, query, int(tail.next_page))
                if tail.next_page.isdigit()
                else self.walk(mode, query, page=tail.next_page)
            )
            async with aclosing(rest) as more:
                async for items in more:
                    yield items

    async def ranges(
        self, query: dict[str, Any], cuts: list[str]
    ) -> AsyncGenerator[list[Any], None]:
        """A v3.2 search split at `takenAt` cuts, the ranges walked concurrently, in order."""
        fil = query.get("filter", {})
        edges: list[str | None] = [None, *cuts, None]

        def job(lo: str | None, hi: str | None) -> Callable[[], Awaitable[list[list[Any]]]]:
            taken = {**({"gte": lo} if lo else {}), **({"lt": hi} if hi else {})}
            part = {**query, "filter": {**fil, "takenAt": taken}}

            async def pages() -> list[list[Any]]:
                return [items async for items in self.walk(ApiMode.V3_2, part)]

            return pages

        jobs = (job(lo, hi) for lo, hi in itertools.pairwise(edges))
        async with aclosing(in_order(jobs, WINDOW)) as parts:
            async for part_pages in parts:
                for items in part_pages:
                    yield items

    async def split(
        self,
        mode: ApiMode,
        query: dict[str, Any],
        *,
        size: int | None = None,
        count_first: bool = False,
        marks: Marks | None = None,
    ) -> AsyncGenerator[list[Any], None]:
        """One search, split for concurrency where that costs no extra page.

        `size` is the expected number of items when the caller knows it; else `count_first`
        asks for the total before the first page (for searches known to be large), or the
        total is asked only when the first page says there are more.
        """
        if mode is ApiMode.V3_2:
            cuts = marks.cuts() if marks is not None else []
            source = self.ranges(query, cuts) if cuts else self.walk(mode, query)
        elif size is not None or count_first:
            if size is None and marks is not None and marks.known_total > 0:
                size = marks.known_total  # the last walk's size: no count needed
            total = size if size is not None else await self.count(query)
            source = self.walk(mode, query) if total is None else self.numbered(mode, query, total)
        else:
            source = self._after_first(mode, query)
        async with aclosing(source) as pages:
            async for items in pages:
                if marks is not None:
                    marks.record(items)
                yield items

    async def _after_first(
        self, mode: ApiMode, query: dict[str, Any], page: int = 1
    ) -> AsyncGenerator[list[Any], None]:
        """Page `page`; when there is more, the total, then the other pages concurrently."""
        first = await self._page(mode, query, str(page), None)
        yield first.items
        if first.next_page is None:
            return
        if first.next_page == str(page):
            raise ImmichInvalidResponseError("search page did not advance")
        total = await self.count(query) if first.next_page.isdigit() else None
        rest = (
            self.walk(mode, query, page=first.next_page)
            if total is None
            else self.numbered(mode, query, total, first=int(first.next_page))
        )
        async with aclosing(rest) as pages:
            async for items in pages:
                yield items

    async def visible_items(
        self,
        mode: ApiMode,
        flat: dict[str, Any],
        fil: dict[str, Any],
        *,
        extra: dict[str, Any] | None = None,
        split: bool = False,
        size: int | None = None,
        count_first: bool = False,
        marks: Marks | None = None,
        ids_only: bool = False,
    ) -> AsyncGenerator[list[Any], None]:
        """Deduplicated, visible (timeline/archive, not trashed) raw items.

        `ids_only` yields their ids instead, interned (the library's strings).
        `split` fetches a search's pages concurrently (see `split`); otherwise one by one.
        """
        # Interned: the ids a run already holds (the library's) are not kept twice while a
        # walk over a million assets remembers them.
        seen: set[str] = set()
        intern = sys.intern
        queries = visible_queries(mode, flat, fil)
        if len(queries) > 1:  # v2: sizes and marks are of the walks together, not each
            size, marks = None, None
        for query in queries:
            full = {**query, **(extra or {})}
            source = (
                self.split(mode, full, size=size, count_first=count_first, marks=marks)
                if split
                else self.walk(mode, full)
            )
            async with aclosing(source) as pages:
                async for items in pages:
                    page: list[Any] = []
                    for item in items:
                        ident = intern(parsing.item_id(item))
                        if ident in seen or not parsing.item_visible(item):
                            continue
                        seen.add(ident)
                        page.append(ident if ids_only else item)
                    yield page


def visible_queries(mode: ApiMode, flat: dict[str, Any], fil: dict[str, Any]) -> list[Any]:
    """The searches covering timeline + archive, non-trashed, in this mode."""
    if mode is ApiMode.V3_2:
        return [{"filter": {"trashedAt": {"eq": None}, "visibility": _V32_VISIBLE, **fil}}]
    if mode is ApiMode.V2:
        return [{**flat, "visibility": v} for v in ("timeline", "archive")]
    return [flat]
