"""The measured side of `benchmarks.cpu`: one process, the engine as the headless command ships it.

python -m benchmarks.cpu_run URL KEY RULES [--profile]   (PYTHONPATH: the headless package)

A first run, then a steady re-run with the album cache warm; prints one JSON object with each
run's CPU time per phase. Imports only `immich_autotag` (cli, engine, immich): Home Assistant
is never loaded, which the output confirms.
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import json
import pstats
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from immich_autotag.engine import job, runner  # type: ignore[import-not-found]
from immich_autotag.engine.album_cache import AlbumCache  # type: ignore[import-not-found]
from immich_autotag.engine.rules_loader import load_rules_file  # type: ignore[import-not-found]
from immich_autotag.immich.client import ImmichClient  # type: ignore[import-not-found]

PHASES = ("snapshot", "plan", "apply")


class PhaseClock:
    """Wraps the runner's phase functions to add up this process's CPU time per phase."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}

    def _add(self, phase: str, started: float) -> None:
        self.cpu[phase] = self.cpu.get(phase, 0.0) + time.process_time() - started

    def wrap_async(self, phase: str, func: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        """An async phase function that is timed."""

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return await func(*args, **kwargs)
            finally:
                self._add(phase, started)

        return timed

    def wrap_sync(self, phase: str, func: Callable[..., Any]) -> Callable[..., Any]:
        """A synchronous phase function that is timed."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return func(*args, **kwargs)
            finally:
                self._add(phase, started)

        return timed


async def one_run(
    url: str, key: str, rules: Any, cache: AlbumCache, clock: PhaseClock
) -> dict[str, Any]:
    """A run with its CPU time per phase."""
    clock.cpu = {}
    started, cpu_started = time.perf_counter(), time.process_time()
    async with aiohttp.ClientSession() as session:
        client = ImmichClient(session, url, key)
        report = await runner.run(client, rules, album_cache=cache)
    return {
        "status": str(report.status),
        "requests": report.api.requests,
        "writes": sum(report.changes.values()),
        "wall_seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(time.process_time() - cpu_started, 2),
        "cpu_by_phase": {p: round(clock.cpu.get(p, 0.0), 2) for p in PHASES},
        "phase_seconds": report.phase_seconds,
    }


def main(argv: list[str]) -> int:
    """Two runs; their figures as JSON on stdout (a profile, if asked, on stderr)."""
    url, key, rules_path = argv[:3]
    rules = load_rules_file(Path(rules_path))
    clock = PhaseClock()
    runner.load_library = clock.wrap_async("snapshot", runner.load_library)
    runner._plan = clock.wrap_sync("plan", runner._plan)  # noqa: SLF001
    job.apply_plan = clock.wrap_async("apply", job.apply_plan)
    cache = AlbumCache()
    runs = {}
    for name in ("first", "steady"):
        profiler = cProfile.Profile() if "--profile" in argv else None
        if profiler is not None:
            profiler.enable()
        runs[name] = asyncio.run(one_run(url, key, rules, cache, clock))
        if profiler is not None:
            profiler.disable()
            text = io.StringIO()
            stats = pstats.Stats(profiler, stream=text)
            stats.sort_stats("tottime").print_stats(40)
            stats.sort_stats("cumulative").print_stats("immich_autotag", 60)
            print(f"--- {name} run ---\n{text.getvalue()}", file=sys.stderr)
    out = {**runs, "imported_home_assistant": "homeassistant" in sys.modules}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
