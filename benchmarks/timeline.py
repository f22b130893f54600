"""Where a run's wall time goes, from the simulator's request timeline (`/__sim/timeline`).

`summarise` gives, per kind of request (asset page, tag search, album listing, or the route),
how many, when the first arrived and the last ended, and how many were in the server at once;
and for the whole run the time with no request in the server (the client's own work, or a
serial chain waiting on itself), the simulator's CPU in its handlers and the *chain*: the
requests sent before the first asset page, one after the other.

python -m benchmarks.timeline FILE.json   (a `GET /__sim/timeline` answer: prints the summary)
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any


def _most_at_once(spans: list[tuple[float, float]]) -> int:
    events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def _idle(spans: list[tuple[float, float]], start: float, end: float) -> float:
    """Seconds in [start, end] with no request in the server."""
    idle, reached = 0.0, start
    for a, b in sorted(spans):
        if a > reached:
            idle += a - reached
        reached = max(reached, b)
    return idle + max(0.0, end - reached)


def summarise(entries: list[dict[str, Any]], wall: float | None = None) -> dict[str, Any]:
    """The timeline's figures (times in seconds from the stats reset)."""
    if not entries:
        return {}
    spans = [(e["arrived"], e["ended"]) for e in entries]
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in entries:
        by_kind[e["kind"]].append(e)
    kinds = {}
    for kind, items in sorted(by_kind.items(), key=lambda kv: min(e["arrived"] for e in kv[1])):
        kind_spans = [(e["arrived"], e["ended"]) for e in items]
        kinds[kind] = {
            "count": len(items),
            "first_arrived": round(min(a for a, _ in kind_spans), 3),
            "last_ended": round(max(b for _, b in kind_spans), 3),
            "most_at_once": _most_at_once(kind_spans),
            "server_seconds": round(sum(b - a for a, b in kind_spans), 3),
            "queued_seconds": round(sum(e["started"] - e["arrived"] for e in items), 3),
            "sim_cpu_seconds": round(sum(e.get("cpuSeconds", 0.0) for e in items), 3),
        }
    first = min(a for a, _ in spans)
    last = max(b for _, b in spans)
    pages = [e["arrived"] for e in entries if e["kind"] == "asset page"]
    chain = [e for e in entries if not pages or e["ended"] <= min(pages)]
    reads = {"asset page", "tag search", "album listing"}
    read_spans = [(e["arrived"], e["ended"]) for e in entries if e["kind"] in reads]
    return {
        "requests": len(entries),
        "first_arrived": round(first, 3),
        "last_ended": round(last, 3),
        "most_at_once": _most_at_once(spans),
        "reads_most_at_once": _most_at_once(read_spans) if read_spans else 0,
        "idle_seconds_between": round(_idle(spans, first, last), 3),
        "idle_seconds_after_last": round(wall - last, 3) if wall is not None else None,
        "sim_cpu_seconds": round(sum(e.get("cpuSeconds", 0.0) for e in entries), 3),
        "before_first_page": [
            f"{e['kind']} {e['arrived']:.3f}-{e['ended']:.3f}"
            for e in sorted(chain, key=lambda e: e["arrived"])
        ],
        "kinds": kinds,
    }


def main(argv: list[str]) -> int:
    """Print the summary of a saved timeline."""
    print(json.dumps(summarise(json.loads(Path(argv[0]).read_text())), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
