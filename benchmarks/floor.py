"""The request floor of a run: the fewest requests the Immich API allows for the same end state.

Computed from the library and the plan, before the run, by the engine itself (in this process,
against the same simulator):

- reads: the identity and listings a run cannot skip (server version, key, user, users,
  tags, albums — two album listings on v2), every asset page, one search per tracked tag
  (each `ceil(n / 1000)` pages), and — without a warm album cache — one listing per relevant
  album (`ceil(assetCount / 1000)` pages; one `GET /albums/{id}` on v2);
- writes: one `PUT /tags` for new tags; per new album one `POST /albums` (its first 1,000
  assets and its users inline) plus one add per further 1,000; additions in chunks of 1,000
  per tag or album, or grouped by the exact set of tags (`PUT /tags/assets`) or albums
  (`PUT /albums/assets`) an asset gains — both endpoints take a cross product — whichever
  needs fewer; one `PUT /assets` per date value
  and 1,000 assets; removals per tag or album and 1,000 assets; per deletion one check for
  trashed members and the deletion; one request per new album member set, role change and
  removal;
- safety: a run that writes takes the run lease (create, two looks, release: 4 requests,
  `engine/lease.py`), re-lists the albums once before creating any (two listings on v2), and
  after date changes reads the re-dated assets once (a page per 1,000) and every tag it changed
  on them once (`engine/verify.py`) — a real server resets such tags otherwise.

What a run spends above it (counting requests that fetch pages concurrently, the final album
listing that keeps the cache warm, re-reads before deletions) shows as requests ÷ floor > 1.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp

from custom_components.immich_autotag.engine.library import Library
from custom_components.immich_autotag.engine.plan import Plan, make_plan
from custom_components.immich_autotag.engine.rules import Rules
from custom_components.immich_autotag.engine.scope import compute_scope
from custom_components.immich_autotag.engine.snapshot import (
    album_is_relevant,
    load_library,
    tracked_tag_paths,
)
from custom_components.immich_autotag.immich.client import ImmichClient
from custom_components.immich_autotag.immich.limiter import Limiter
from custom_components.immich_autotag.immich.models import ApiMode

PAGE = 1000


def pages(n: int) -> int:
    """Requests to page through `n` items (at least one)."""
    return max(1, -(-n // PAGE))


def chunked(sizes: Iterable[int]) -> int:
    """Requests for bulk changes of these sizes, 1,000 ids per request."""
    return sum(-(-n // PAGE) for n in sizes if n)


@dataclass
class Floor:
    """The floor of one run, by part."""

    reads: dict[str, int] = field(default_factory=dict)
    writes: dict[str, int] = field(default_factory=dict)

    @property
    def read_total(self) -> int:
        """All reads."""
        return sum(self.reads.values())

    @property
    def write_total(self) -> int:
        """All writes and the reads that guard them (deletion checks, lease, verification)."""
        return sum(self.writes.values())

    @property
    def total(self) -> int:
        """All requests."""
        return self.read_total + self.write_total

    def as_dict(self) -> dict[str, Any]:
        """JSON form (with the totals)."""
        return {
            **asdict(self),
            "read_total": self.read_total,
            "write_total": self.write_total,
            "total": self.total,
        }


def read_floor(lib: Library, rules: Rules, mode: ApiMode, *, albums_cached: bool) -> dict[str, int]:
    """The reads no run can skip (album listings only when the cache is cold)."""
    v2 = mode is ApiMode.V2
    reads = {"identity and listings": 6 + v2, "asset pages": pages(len(lib.assets)) + v2}
    tracked = tracked_tag_paths(rules, lib.tags)
    reads["tag searches"] = sum(
        pages(len(lib.tag_members.get(path, ()))) * (1 + v2) for path in tracked if path in lib.tags
    )
    if not albums_cached:
        relevant = [
            a
            for a in lib.albums.values()
            if a.asset_count and album_is_relevant(a, rules, lib.me.id)
        ]
        reads["album listings"] = sum(1 if v2 else pages(a.asset_count) for a in relevant)
    return reads


def write_floor(plan: Plan) -> dict[str, int]:
    """The writes (and deletion checks) the plan's end state needs at the least."""

    def cross_product(groups: dict[str, frozenset[int]]) -> int:
        """Fewer of: one request per target and chunk; one per set of targets and chunk."""
        gains: dict[int, list[str]] = {}
        for target, assets in groups.items():
            for asset in assets:
                gains.setdefault(asset, []).append(target)
        by_set = chunked(Counter(tuple(sorted(t)) for t in gains.values()).values())
        return min(by_set, chunked(len(a) for a in groups.values()))

    new_album_users = {c.album_id for c in plan.album_users if c.kind == "album_user_add"}
    writes = {
        "tag creates": 1 if plan.tag_creates else 0,
        "album creates": sum(pages(len(a)) for a in plan.album_creates.values()),
        "tag additions": cross_product(plan.tag_adds),
        "album additions": cross_product(plan.album_adds),
        "dates": chunked(len(a) for a in plan.date_sets.values()),
        "tag removals": chunked(len(a) for a in plan.tag_removes.values()),
        "album removals": chunked(len(a) for a in plan.album_removes.values()),
        "deletions (check + delete)": 2 * (len(plan.album_deletes) + len(plan.tag_deletes)),
        "sharing": len(new_album_users)
        + sum(1 for c in plan.album_users if c.kind != "album_user_add"),
    }
    return {k: v for k, v in writes.items() if v}


def safety_floor(plan: Plan, mode: ApiMode) -> dict[str, int]:
    """The lease, the album re-listing and the verification of a run that writes."""
    if plan.is_empty:
        return {}
    dated = frozenset().union(*plan.date_sets.values())
    changed = {p for p, a in (*plan.tag_adds.items(), *plan.tag_removes.items()) if a & dated}
    safety = {
        "run lease": 4,
        "albums re-listed": (1 + (mode is ApiMode.V2)) if plan.album_creates else 0,
        "verification": (pages(len(dated)) + len(changed)) if dated else 0,
    }
    return {k: v for k, v in safety.items() if v}


async def floor_of_next_run(url: str, key: str, rules: Rules, *, albums_cached: bool) -> Floor:
    """Snapshot and plan the library as the next run will find it; its floor."""
    async with aiohttp.ClientSession() as session:
        client = ImmichClient(session, url, key, limiter=Limiter(16))
        info = await client.connect()
        lib = await load_library(client, rules, info.user)
        mode = client.mode
    scope = compute_scope(lib, rules)
    _, plan = await asyncio.to_thread(make_plan, lib, rules, scope)
    writes = write_floor(plan) | safety_floor(plan, mode)
    return Floor(read_floor(lib, rules, mode, albums_cached=albums_cached), writes)
