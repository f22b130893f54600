"""The simulator's request timeline: when each request arrived, got a worker and left.

Recorded when `SimStats.timeline` is a list (`python -m tests.sim --timeline`, or a test sets
`sim.stats.timeline = []`) and served by `GET /__sim/timeline` in seconds since the last
stats reset. `idle_gaps` finds where the server had free workers and nothing waiting: the time
a client could have filled. Each span also says what the request read (`kind`: an asset page,
a tag search, an album listing, or its route) and the simulator's CPU in its handler (it shares
the machine with the client under test); `overlaps` counts requests in the server together.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Span(NamedTuple):
    """One request as the server saw it (monotonic seconds)."""

    route: str  # "METHOD /template" ("" when it never reached a handler)
    arrived: float  # reached the server (then waited for a worker)
    started: float  # got a worker
    ended: float  # answered (or its client went away)
    items: int  # ids it carried (the per-item service time)
    kind: str = ""  # what it read (`request_kind`)
    cpu_s: float = 0.0  # the simulator's CPU building the answer


def request_kind(route: str, body: Any) -> str:
    """What a request reads: a search's target, else its route."""
    if route == "POST /search/metadata" and isinstance(body, dict):
        fil = body.get("filter")
        where = fil if isinstance(fil, dict) else body
        if where.get("tagIds"):
            return "tag search"
        if where.get("albumIds"):
            return "album listing"
        return "asset page"
    return route


def overlaps(spans: list[Span], kinds: set[str] | None = None) -> int:
    """Most requests (of `kinds`, all by default) in the server at the same time."""
    events: list[tuple[float, int]] = []
    for s in spans:
        if kinds is None or s.kind in kinds:
            events.extend(((s.arrived, 1), (s.ended, -1)))
    most = now = 0
    for _, step in sorted(events):  # an end sorts before a start at the same instant
        now += step
        most = max(most, now)
    return most


def spans_as_json(spans: list[Span], origin: float) -> list[dict[str, Any]]:
    """`spans` with times in seconds since `origin`, for `/__sim/timeline`."""
    return [
        {
            "route": s.route,
            "arrived": round(s.arrived - origin, 5),
            "started": round(s.started - origin, 5),
            "ended": round(s.ended - origin, 5),
            "items": s.items,
            "kind": s.kind,
            "cpuSeconds": round(s.cpu_s, 5),
        }
        for s in spans
    ]


def spans_from_json(data: list[dict[str, Any]]) -> list[Span]:
    """The inverse of `spans_as_json` (times stay relative)."""
    return [
        Span(
            d["route"],
            d["arrived"],
            d["started"],
            d["ended"],
            d["items"],
            d.get("kind", ""),
            d.get("cpuSeconds", 0.0),
        )
        for d in data
    ]


def idle_worker_seconds(spans: list[Span], workers: int, start: float, end: float) -> float:
    """Worker-seconds in [start, end] with a worker free and no request waiting for one."""
    events: list[tuple[float, int, int]] = []  # (time, d_serving, d_waiting)
    for s in spans:
        events += [(s.arrived, 0, 1), (s.started, 1, -1), (s.ended, -1, 0)]
    events.sort()
    idle, serving, waiting, last = 0.0, 0, 0, start
    for t, d_serving, d_waiting in events:
        clipped = min(max(t, start), end)
        if waiting == 0:
            idle += max(0, workers - serving) * (clipped - last)
        last = clipped
        serving += d_serving
        waiting += d_waiting
    if waiting == 0:
        idle += max(0, workers - serving) * (end - last)
    return idle
