"""The measured side of `benchmarks.memory`: the headless command in this process, watched.

python -m benchmarks.memory_run URL KEY RULES CACHE JOURNAL [--trace]
(PYTHONPATH: the headless package)

Runs the command (`immich_autotag.cli`, default settings, with a journal and an album cache)
once and prints one JSON object: the peak resident memory, the objects the cyclic garbage
collector tracks after the snapshot and after planning (and the time of a full collection
then), and with `--trace` the lines that held the most memory at the traced peak
(`tracemalloc`, which slows the run and adds its own memory: its RSS is not the real one).
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import resource
import sys
import threading
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from immich_autotag.cli import main as cli  # type: ignore[import-not-found]
from immich_autotag.engine import job, runner, verify  # type: ignore[import-not-found]

TOP = 25


def _rss_mb() -> float:
    with Path("/proc/self/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _containers() -> list[str]:
    """The tracked objects with the most references (what a full collection walks)."""
    sizes: dict[str, list[int]] = {}
    for obj in gc.get_objects():
        refs = len(gc.get_referents(obj))
        key = type(obj).__name__
        entry = sizes.setdefault(key, [0, 0])
        entry[0] += 1
        entry[1] += refs
    top = sorted(sizes.items(), key=lambda kv: -kv[1][1])[:12]
    return [f"{name}: {n} objects, {refs} references" for name, (n, refs) in top]


def _gc_point() -> dict[str, Any]:
    """Tracked objects now and the CPU time of one full collection."""
    gc.collect()
    tracked = len(gc.get_objects())
    started = time.thread_time()
    gc.collect()
    return {
        "tracked_objects": tracked,
        "full_collection_ms": round((time.thread_time() - started) * 1000, 1),
        "rss_mb": _rss_mb(),
        **({"containers": _containers()} if "--containers" in sys.argv else {}),
    }


class RssWatch(threading.Thread):
    """The highest resident memory seen in each phase (sampled every 50 ms)."""

    def __init__(self, watch: PeakWatch) -> None:
        super().__init__(daemon=True)
        self.watch = watch
        self.by_phase: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            phase, rss = self.watch.phase, _rss_mb()
            self.by_phase[phase] = max(rss, self.by_phase.get(phase, 0.0))


class PeakWatch(threading.Thread):
    """Keeps the tracemalloc snapshot taken nearest the traced peak (polled)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.best = 0
        self.snapshot: tracemalloc.Snapshot | None = None
        self.at = ""
        self.phase = "start"
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.25):
            current, _ = tracemalloc.get_traced_memory()
            if current > self.best * 1.02:
                self.best = current
                self.snapshot = tracemalloc.take_snapshot()
                self.at = self.phase


def main(argv: list[str]) -> int:
    """One run; its memory figures as JSON on stdout."""
    url, key, rules, cache, journal = argv[:5]
    trace = "--trace" in argv
    points: dict[str, Any] = {}
    watch = PeakWatch()

    def after(name: str, func: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
        async def wrapped(*args: Any, **kwargs: Any) -> Any:
            watch.phase = name
            result = await func(*args, **kwargs)
            points[f"after_{name}"] = _gc_point()
            watch.phase = f"after {name}"
            return result

        return wrapped

    plan = runner._plan  # noqa: SLF001

    def planned(*args: Any) -> Any:
        watch.phase = "plan"
        result = plan(*args)
        points["after_plan"] = _gc_point()
        watch.phase = "after plan"
        return result

    runner.load_library = after("snapshot", runner.load_library)
    verify.Verifier.run = after("verify", verify.Verifier.run)
    runner._plan = planned  # noqa: SLF001
    job.apply_plan = after("apply", job.apply_plan)
    rss = RssWatch(watch)
    rss.start()
    if trace:
        tracemalloc.start(1)
        watch.start()
    argv_cli = ["--url", url, "--api-key", key, "--rules", rules, "--json", "--quiet"]
    argv_cli += ["--cache", cache, "--journal", journal]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = cli.main(argv_cli)
    report = json.loads(out.getvalue())
    rss.stop.set()
    result: dict[str, Any] = {
        "exit_code": code,
        "status": report["status"],
        "assets": report["assets_total"],
        "changes": sum(report["changes"].values()),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "points": points,
        "peak_rss_mb_by_phase": rss.by_phase,
    }
    if trace:
        watch.stop.set()
        watch.join()
        result["traced_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        if watch.snapshot is not None:
            stats = watch.snapshot.statistics("lineno")
            result["snapshot_phase"] = watch.at
            result["snapshot_mb"] = round(sum(s.size for s in stats) / 2**20, 1)
            result["top_lines"] = [
                {
                    "mb": round(s.size / 2**20, 2),
                    "count": s.count,
                    "line": f"{s.traceback[0].filename.split('/immich_autotag/')[-1]}"
                    f":{s.traceback[0].lineno}",
                }
                for s in stats[:TOP]
            ]
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
