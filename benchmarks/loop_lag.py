"""How long the engine ever blocks the event loop (at most 100 ms: docs/engine.md).

python -m benchmarks.loop_lag [ASSETS]

Runs the engine in this process, as Home Assistant does (default settings), against a
simulator in another process (the `generated` profile, 8 workers, 37 ± 5 ms + 0.15 ms per
item), with a heartbeat task that wakes every 10 ms and records how late it woke: a dry run,
a first run and a steady re-run. The worst lateness is the longest stretch the run kept the
loop busy. Result: results/loop-lag.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

import aiohttp

from custom_components.immich_autotag.engine.album_cache import AlbumCache
from custom_components.immich_autotag.engine.rules_loader import load_rules_file
from custom_components.immich_autotag.engine.runner import run
from custom_components.immich_autotag.immich.client import ImmichClient

from .run import RESULTS, RULES, Scenario, free_port, start_simulator

TICK = 0.01


async def measure(url: str, key: str, cache: AlbumCache, *, dry_run: bool) -> dict[str, Any]:
    """One run with a heartbeat; the worst and the 99th-percentile loop lag in ms."""
    lags: list[float] = []
    done = asyncio.Event()

    async def heartbeat() -> None:
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(TICK)
            lags.append(time.perf_counter() - before - TICK)

    beat = asyncio.create_task(heartbeat())
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        client = ImmichClient(session, url, key)
        report = await run(client, load_rules_file(RULES), dry_run=dry_run, album_cache=cache)
    done.set()
    await beat
    lags.sort()
    return {
        "dry_run": dry_run,
        "requests": report.api.requests,
        "status": str(report.status),
        "wall_seconds": round(time.perf_counter() - started, 2),
        "max_lag_ms": round(lags[-1] * 1000, 1),
        "p99_lag_ms": round(lags[int(len(lags) * 0.99)] * 1000, 1),
        "ticks": len(lags),
    }


def main(argv: list[str]) -> int:
    """Measure a dry run, a first run and a steady re-run on a generated library."""
    assets = int(argv[0]) if argv else 100_000
    port = free_port()
    sim, key = start_simulator(Scenario("loop-lag", "generated", assets), port)
    cache = AlbumCache()
    try:
        url = f"http://127.0.0.1:{port}"
        runs = [
            asyncio.run(measure(url, key, cache, dry_run=dry_run))
            for dry_run in (True, False, False)
        ]
    finally:
        sim.terminate()
        sim.wait(timeout=30)
    result = {
        "assets": assets,
        "profile": "generated",
        "settings": "default; server of 8 workers at 37 ± 5 ms + 0.15 ms per item",
        "tick_ms": TICK * 1000,
        "load_average": os.getloadavg(),
        "runs": runs,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "loop-lag.json").write_text(json.dumps(result, indent=2) + "\n")
    for r in runs:
        print(
            f"loop lag, {assets:,} assets, {'dry run' if r['dry_run'] else 'run'}"
            f" ({r['requests']} requests):"
            f" max {r['max_lag_ms']} ms, p99 {r['p99_lag_ms']} ms ({r['wall_seconds']} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
